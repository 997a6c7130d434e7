// The pure PushSecret logic: which values go to which remote keys (spec.data, spec.dataTo per key
// and bundled, conversion, explicit entries winning), what deletionPolicy Delete removes, the
// status keys, when a push is due, and ClusterPushSecret's namespace selection.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { PushSecretData, PushSecretDataTo } from '../../../src/api/types.generated.ts';
import {
  mergeSynced, parseStoreStatusKey, pushEntries, reverseKey, staleEntries, statusRef, storeStatusKey,
} from '../../../src/sync/push.ts';
import { SyncError } from '../../../src/sync/errors.ts';
import { renderKeyTemplate } from '../../../src/sync/template.ts';
import { pushDue, sourceFingerprint } from '../../../src/controllers/pushsecret-reconciler.ts';
import { controlledBy, targetNamespaces } from '../../../src/controllers/clusterpushsecret.ts';
import { pushMetadataSpec, withProperty } from '../../../src/providers/common/push.ts';
import { ProviderError } from '../../../src/providers/provider.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
const source = new Map<string, Uint8Array>([
  ['DB_HOST', enc.encode('db.internal')],
  ['DB_USER', enc.encode('app')],
  ['API_KEY', enc.encode('k<&>')],
]);
const data = (secretKey: string | undefined, remoteKey: string, property?: string): PushSecretData =>
  ({ match: { ...(secretKey !== undefined ? { secretKey } : {}), remoteRef: { remoteKey, ...(property ? { property } : {}) } } });
const dataTo = (entry: PushSecretDataTo, index = 0) => ({ entry, index });
const remoteKeys = (entries: ReturnType<typeof pushEntries>) => entries.map((e) => statusRef(e.data));

describe('pushEntries', () => {
  it('spec.data: one key, and the whole Secret as Go JSON (keys sorted, HTML not escaped)', () => {
    const out = pushEntries([data('DB_USER', 'remote/user'), data(undefined, 'remote/all')], [], source, undefined);
    assert.deepEqual(remoteKeys(out), ['remote/user', 'remote/all']);
    assert.equal(dec.decode(out[0]!.value), 'app');
    assert.equal(dec.decode(out[1]!.value), '{"API_KEY":"k<&>","DB_HOST":"db.internal","DB_USER":"app"}');
    assert.equal(out[1]!.wholeSecret?.size, 3);
  });

  it('a missing secretKey is refused, naming the field and the key', () => {
    assert.throws(() => pushEntries([data('NOPE', 'r')], [], source, undefined), (e: unknown) =>
      e instanceof SyncError && e.code === 'InvalidPushSecret' && e.message === 'spec.data[0].match.secretKey: secret key "NOPE" does not exist');
  });

  it('dataTo per key: regexp match and rewrite, each key to its own remote secret', () => {
    const out = pushEntries([], [dataTo({ storeRef: { name: 's' }, match: { regexp: '^DB_' }, rewrite: [{ regexp: { source: '^DB_', target: 'app/db-' } }, { transform: { template: '{{ .value | lower }}' } }] })], source, renderKeyTemplate);
    assert.deepEqual(remoteKeys(out), ['app/db-host', 'app/db-user']);
    assert.deepEqual(out.map((e) => e.data.match.secretKey), ['DB_HOST', 'DB_USER']);
    assert.equal(dec.decode(out[0]!.value), 'db.internal');
  });

  it('dataTo bundle: the matched keys as one JSON secret', () => {
    const out = pushEntries([], [dataTo({ storeRef: { name: 's' }, remoteKey: 'bundle', match: { regexp: 'DB' } })], source, undefined);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.data.match.secretKey, '');
    assert.equal(dec.decode(out[0]!.value), '{"DB_HOST":"db.internal","DB_USER":"app"}');
  });

  it('an explicit data entry wins over dataTo for the same source key', () => {
    const out = pushEntries([data('DB_HOST', 'explicit/host')], [dataTo({ storeRef: { name: 's' } })], source, undefined);
    assert.deepEqual(remoteKeys(out).sort(), ['API_KEY', 'DB_USER', 'explicit/host']);
  });

  it('two entries writing one remote key and property are refused', () => {
    assert.throws(() => pushEntries([data('DB_HOST', 'r', 'p'), data('DB_USER', 'r', 'p')], [], source, undefined), /duplicate remote key "r" with property "p": source keys "DB_HOST" and "DB_USER"/);
    // Different properties of one remote secret are fine.
    assert.equal(pushEntries([data('DB_HOST', 'r', 'host'), data('DB_USER', 'r', 'user')], [], source, undefined).length, 2);
  });

  it('dataTo rewrites that collide are refused; an invalid match regexp names its field', () => {
    assert.throws(() => pushEntries([], [dataTo({ storeRef: { name: 's' }, rewrite: [{ regexp: { source: '.*', target: 'same' } }] })], source, undefined), /two source keys are rewritten to the same remote key/);
    assert.throws(() => pushEntries([], [dataTo({ storeRef: { name: 's' }, match: { regexp: '(' } }, 3)], source, undefined), (e: unknown) => e instanceof SyncError && e.field === 'spec.dataTo[3].match.regexp');
  });

  it('ReverseUnicode turns _U0040_ back into @ (ESO reverses before matching)', () => {
    assert.equal(reverseKey('ReverseUnicode', 'user_U0040_example.com'), 'user@example.com');
    assert.equal(reverseKey('None', 'user_U0040_example.com'), 'user_U0040_example.com');
    const src = new Map([['a_U002f_b', enc.encode('v')]]);
    const out = pushEntries([{ ...data('a/b', 'r'), conversionStrategy: 'ReverseUnicode' }], [], src, undefined);
    assert.equal(dec.decode(out[0]!.value), 'v');
  });
});

describe('status bookkeeping', () => {
  it('statusRef and store keys as ESO writes them', () => {
    assert.equal(statusRef(data('k', 'remote')), 'remote');
    assert.equal(statusRef(data('k', 'remote', 'prop')), 'remote/prop');
    assert.equal(storeStatusKey('ClusterSecretStore', 'aws'), 'ClusterSecretStore/aws');
    assert.deepEqual(parseStoreStatusKey('SecretStore/vault'), { kind: 'SecretStore', name: 'vault' });
    assert.equal(parseStoreStatusKey('Other/x'), undefined);
    assert.equal(parseStoreStatusKey('SecretStore/a/b'), undefined);
  });

  it('staleEntries: what is no longer pushed, per store; everything when nothing is pushed', () => {
    const previous = { 'SecretStore/a': { r1: data('k', 'r1'), r2: data('k', 'r2') }, 'SecretStore/b': { r3: data('k', 'r3') } };
    assert.deepEqual(staleEntries(previous, { 'SecretStore/a': { r1: data('k', 'r1') } }).map((s) => `${s.store} ${s.ref}`), ['SecretStore/a r2', 'SecretStore/b r3']);
    assert.equal(staleEntries(previous, {}).length, 3);
    assert.deepEqual(staleEntries(undefined, {}), []);
  });

  it('mergeSynced keeps what an earlier push recorded', () => {
    assert.deepEqual(Object.keys(mergeSynced({ 'SecretStore/a': { r1: data('k', 'r1') } }, { 'SecretStore/a': { r0: data('k', 'r0') }, 'SecretStore/b': {} })).sort(), ['SecretStore/a', 'SecretStore/b']);
  });
});

describe('pushDue', () => {
  const base = { specChanged: false, sourceChanged: false, refreshMs: 60_000, lastRefreshMs: 1_000_000, synced: true, now: 1_030_000 };
  it('not due before refreshInterval; due after it, on a spec change, or a source change', () => {
    assert.deepEqual(pushDue(base), { due: false, requeueAfter: 30_000 });
    assert.equal(pushDue({ ...base, now: 1_060_000 }).due, true);
    assert.equal(pushDue({ ...base, specChanged: true }).due, true);
    assert.equal(pushDue({ ...base, sourceChanged: true }).due, true);
  });
  it('refreshInterval 0 pushes once per change', () => {
    assert.deepEqual(pushDue({ ...base, refreshMs: 0 }), { due: false });
    assert.equal(pushDue({ ...base, refreshMs: 0, sourceChanged: true }).due, true);
    assert.equal(pushDue({ ...base, lastRefreshMs: NaN, synced: false }).due, true);
  });
  it('sourceFingerprint changes with a resourceVersion, not with order', () => {
    const a = { metadata: { name: 'a', resourceVersion: '1' } };
    const b = { metadata: { name: 'b', resourceVersion: '7' } };
    assert.equal(sourceFingerprint([a, b]), sourceFingerprint([b, a]));
    assert.notEqual(sourceFingerprint([a]), sourceFingerprint([{ metadata: { name: 'a', resourceVersion: '2' } }]));
  });
});

describe('ClusterPushSecret', () => {
  const namespaces: Array<{ name: string; labels: Record<string, string> }> = [{ name: 'b', labels: { team: 'x' } }, { name: 'a', labels: { team: 'x', env: 'prod' } }, { name: 'c', labels: {} }];
  it('targetNamespaces: selectors are ORed, sorted; none selects nothing', () => {
    assert.deepEqual(targetNamespaces([{ matchLabels: { team: 'x' } }], namespaces), ['a', 'b']);
    assert.deepEqual(targetNamespaces([{ matchLabels: { env: 'prod' } }, { matchExpressions: [{ key: 'team', operator: 'DoesNotExist' }] }], namespaces), ['a', 'c']);
    assert.deepEqual(targetNamespaces(undefined, namespaces), []);
  });
  it('controlledBy: only a controller reference of this ClusterPushSecret', () => {
    const ps = (refs: unknown[]) => ({ metadata: { name: 'p', ownerReferences: refs }, spec: {} }) as never;
    assert.equal(controlledBy(ps([{ apiVersion: 'external-secrets.io/v1alpha1', kind: 'ClusterPushSecret', name: 'c', uid: 'u', controller: true }]), 'c'), true);
    assert.equal(controlledBy(ps([{ apiVersion: 'external-secrets.io/v1alpha1', kind: 'ClusterPushSecret', name: 'c', uid: 'u' }]), 'c'), false);
    assert.equal(controlledBy(ps([{ apiVersion: 'external-secrets.io/v1alpha1', kind: 'ClusterPushSecret', name: 'other', uid: 'u', controller: true }]), 'c'), false);
  });
});

describe('provider push helpers', () => {
  it('withProperty keeps the other fields; a non-JSON remote value is refused without quoting it', () => {
    assert.equal(withProperty(enc.encode('{"a":1,"b":"x"}'), 'b', enc.encode('y<'), 'k'), '{"a":1,"b":"y<"}');
    assert.equal(withProperty(undefined, 'p', enc.encode('v'), 'k'), '{"p":"v"}');
    assert.throws(() => withProperty(enc.encode('secret-text'), 'p', enc.encode('v'), 'AWS "k"'), (e: unknown) =>
      e instanceof ProviderError && !e.message.includes('secret-text') && /requires the remote secret to be a JSON object/.test(e.message));
  });
  it("pushMetadataSpec reads ESO's PushSecretMetadata envelope and refuses unknown fields", () => {
    const meta = { apiVersion: 'kubernetes.external-secrets.io/v1alpha1', kind: 'PushSecretMetadata', spec: { tags: { a: 'b' } } };
    assert.deepEqual(pushMetadataSpec(meta, ['tags'], 'AWS'), { tags: { a: 'b' } });
    assert.equal(pushMetadataSpec(undefined, ['tags'], 'AWS'), undefined);
    assert.throws(() => pushMetadataSpec({ ...meta, kind: 'Other' }, ['tags'], 'AWS'), /unexpected kind "Other"/);
    assert.throws(() => pushMetadataSpec({ ...meta, spec: { nope: 1 } }, ['tags'], 'AWS'), /unknown field "nope"/);
  });
});
