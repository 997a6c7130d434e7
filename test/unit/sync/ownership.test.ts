// Ownership (ADR 0004) decided on what the controller's cache really holds: each plan's Secret is
// handed to the next plan as the informer would (asCached: no managedFields), so these tests fail
// if ownership depends on server-side-apply field managers the controller never sees.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ANNOTATION_DATA_HASH, LABEL_CREATED_BY, LABEL_MANAGED } from '../../../src/api/constants.ts';
import type { ExternalSecret } from '../../../src/api/types.generated.ts';
import { desiredSecret, NOT_FOUND, type DesiredSecretInput, type FetchedValues, type SyncPlan } from '../../../src/sync/desired.ts';
import type { SyncError } from '../../../src/sync/errors.ts';
import { WRITE_RECORD_PREFIX, fieldOwnerFor, readWriteRecord, writeRecordKey, type Secret } from '../../../src/sync/secret.ts';
import {
  aSecret, anExternalSecret, asCached, remote, withDeletionPolicy, textData, withAnnotations, withCreationPolicy, withData, withLabels, withName,
  withSecretAnnotations, withSecretData, withSecretLabels, withSecretType, withTargetName, withTemplate, withUid,
} from '../../fixtures/builders.ts';

type Written = Extract<SyncPlan, { action: 'write' }>;
function run(es: ExternalSecret, fetched: Partial<FetchedValues>, existing?: Secret, extra: Partial<DesiredSecretInput> = {}) {
  return desiredSecret({ externalSecret: es, fetched: { data: [], dataFrom: [], ...fetched }, existing, ...extra });
}
function write(es: ExternalSecret, fetched: Partial<FetchedValues>, existing?: Secret, extra: Partial<DesiredSecretInput> = {}): Written {
  const r = run(es, fetched, existing, extra);
  if (!r.ok) assert.fail(`unexpected error ${r.error.code}: ${r.error.message}`);
  assert.equal(r.plan.action, 'write');
  return r.plan as Written;
}
function refused(es: ExternalSecret, fetched: Partial<FetchedValues>, existing?: Secret, extra: Partial<DesiredSecretInput> = {}): SyncError {
  const r = run(es, fetched, existing, extra);
  assert.equal(r.ok, false, 'expected a refusal');
  return (r as { ok: false; error: SyncError }).error;
}
const v = (s: string) => ({ data: [remote(s)] });
/** A Secret another team made by hand: no label, no owner. */
const foreign = () => aSecret(withTargetNameSecret('shared'), withSecretData({ precious: 'p', other: 'o' }));
function withTargetNameSecret(name: string) {
  return (s: Secret) => { s.metadata.name = name; };
}

describe('Merge never makes a foreign Secret look managed', () => {
  const merger = anExternalSecret(withName('merger'), withTargetName('shared'), withCreationPolicy('Merge'), withData('added', 'r'));

  test('no managed or created-by label, no data-hash; a write record with the keys it wrote', () => {
    const plan = write(merger, v('x'), foreign());
    const labels = plan.secret.metadata.labels ?? {};
    assert.equal(labels[LABEL_MANAGED], undefined);
    assert.equal(labels[LABEL_CREATED_BY], undefined);
    assert.equal(plan.secret.metadata.annotations?.[ANNOTATION_DATA_HASH], undefined);
    assert.deepEqual(readWriteRecord(plan.secret, 'merger')?.data, ['added']);
    assert.deepEqual(textData(plan.secret), { precious: 'p', other: 'o', added: 'x' });
  });

  test('labels an ExternalSecret asks for cannot forge the managed or created-by label, or a record', () => {
    const sneaky = anExternalSecret(withName('merger'), withTargetName('shared'), withCreationPolicy('Merge'), withData('added', 'r'),
      withLabels({ [LABEL_MANAGED]: 'true', [LABEL_CREATED_BY]: 'x' }), withAnnotations({ [writeRecordKey('victim')]: '{"data":["precious"]}', [ANNOTATION_DATA_HASH]: 'h' }));
    const plan = write(sneaky, v('x'), foreign());
    assert.equal(plan.secret.metadata.labels?.[LABEL_MANAGED], undefined);
    assert.equal(plan.secret.metadata.labels?.[LABEL_CREATED_BY], undefined);
    assert.equal(plan.secret.metadata.annotations?.[writeRecordKey('victim')], undefined);
    const viaTemplate = anExternalSecret(withName('merger'), withTargetName('shared'), withCreationPolicy('Merge'), withData('added', 'r'),
      withTemplate({ metadata: { labels: { [LABEL_MANAGED]: 'true' } } }));
    assert.equal(write(viaTemplate, v('x'), foreign()).secret.metadata.labels?.[LABEL_MANAGED], undefined);
  });

  test('the Merge-then-Owner takeover is refused and the foreign keys stay', () => {
    const merged = asCached(write(merger, v('x'), foreign()).secret);
    for (const policy of ['Owner', 'Orphan'] as const) {
      const taker = anExternalSecret(withName('taker'), withUid('taker-uid'), withTargetName('shared'), withCreationPolicy(policy), withData('k', 'r'));
      assert.equal(refused(taker, v('y'), merged).code, 'SecretNotManaged', policy);
    }
    assert.deepEqual(textData(merged), { precious: 'p', other: 'o', added: 'x' });
  });

  test('removing a key from the spec removes exactly that key, not the foreign ones', () => {
    const two = anExternalSecret(withName('merger'), withTargetName('shared'), withCreationPolicy('Merge'), withData('a', 'r1'), withData('b', 'r2'));
    const first = asCached(write(two, { data: [remote('1'), remote('2')] }, foreign()).secret);
    assert.equal(first.metadata.managedFields, undefined, 'the input is what the cache holds');
    const one = anExternalSecret(withName('merger'), withTargetName('shared'), withCreationPolicy('Merge'), withData('a', 'r1'));
    const second = write(one, v('1'), first);
    assert.deepEqual(textData(second.secret), { precious: 'p', other: 'o', a: '1' });
    assert.equal(second.upToDate, false);
    assert.equal(write(one, v('1'), asCached(second.secret, '3')).upToDate, true, 'then up to date');
  });

  test('two Merge ExternalSecrets into one Secret coexist and stay up to date', () => {
    const a = anExternalSecret(withName('merge-a'), withTargetName('shared'), withCreationPolicy('Merge'), withData('from-a', 'r'));
    const b = anExternalSecret(withName('merge-b'), withTargetName('shared'), withCreationPolicy('Merge'), withData('from-b', 'r'));
    const afterA = asCached(write(a, v('A'), foreign()).secret, '2');
    const afterB = asCached(write(b, v('B'), afterA).secret, '3');
    assert.deepEqual(textData(afterB), { precious: 'p', other: 'o', 'from-a': 'A', 'from-b': 'B' });
    assert.equal(write(a, v('A'), afterB).upToDate, true, 'B writing does not make A write again (no ping-pong)');
    assert.equal(write(b, v('B'), afterB).upToDate, true);
    // A drops its key: B's stays.
    const aNone = anExternalSecret(withName('merge-a'), withTargetName('shared'), withCreationPolicy('Merge'), withData('other-a', 'r'));
    assert.deepEqual(textData(write(aNone, v('A2'), afterB).secret), { precious: 'p', other: 'o', 'from-b': 'B', 'other-a': 'A2' });
  });
});

describe('Owner and Orphan record their creator', () => {
  test('removing a label from template.metadata removes it; labels of other tools stay', () => {
    const withTwo = anExternalSecret(withData('k', 'r'), withTemplate({ metadata: { labels: { keep: '1', drop: '2' }, annotations: { note: 'n' } } }));
    const first = asCached(write(withTwo, v('x')).secret);
    first.metadata.labels!['argocd.argoproj.io/instance'] = 'app';
    const withOne = anExternalSecret(withData('k', 'r'), withTemplate({ metadata: { labels: { keep: '1' } } }));
    const second = write(withOne, v('x'), first);
    assert.equal(second.upToDate, false);
    assert.equal(second.secret.metadata.labels?.drop, undefined);
    assert.equal(second.secret.metadata.annotations?.note, undefined);
    assert.equal(second.secret.metadata.labels?.keep, '1');
    assert.equal(second.secret.metadata.labels?.['argocd.argoproj.io/instance'], 'app');
    assert.equal(write(withOne, v('x'), asCached(second.secret, '3')).upToDate, true);
  });

  test('an Orphan Secret created by ExternalSecret A is refused to B, named', () => {
    const a = anExternalSecret(withName('es-a'), withUid('uid-a'), withTargetName('orphan'), withCreationPolicy('Orphan'), withData('k', 'r'));
    const created = asCached(write(a, v('x')).secret);
    assert.equal(created.metadata.ownerReferences, undefined);
    for (const policy of ['Orphan', 'Owner'] as const) {
      const b = anExternalSecret(withName('es-b'), withUid('uid-b'), withTargetName('orphan'), withCreationPolicy(policy), withData('k', 'r'));
      const err = refused(b, v('y'), created);
      assert.equal(err.code, 'SecretOwnedByOther', policy);
      assert.equal(err.message, 'secret "orphan" is owned by ExternalSecret "es-a"');
    }
    // A itself (also recreated with a new uid, e.g. by Argo CD) keeps writing it.
    const aAgain = anExternalSecret(withName('es-a'), withUid('uid-a2'), withTargetName('orphan'), withCreationPolicy('Orphan'), withData('k', 'r'));
    assert.deepEqual(textData(write(aAgain, v('z'), created).secret), { k: 'z' });
  });

  test('the same name in another namespace is another creator', () => {
    const a = anExternalSecret(withName('es-a'), withTargetName('orphan'), withCreationPolicy('Orphan'), withData('k', 'r'));
    const created = asCached(write(a, v('x')).secret);
    const other = structuredClone(a);
    other.metadata.namespace = 'team-b';
    assert.equal(refused(other, v('y'), { ...created, metadata: { ...created.metadata, namespace: 'team-b' } }).code, 'SecretOwnedByOther');
  });

  test('a managed Secret with no creator recorded (ESO Orphan, older Tessera) is adopted', () => {
    const legacy = aSecret(withSecretLabels({ [LABEL_MANAGED]: 'true' }), withSecretData({ k: 'old' }));
    const plan = write(anExternalSecret(withCreationPolicy('Orphan'), withData('k', 'r')), v('new'), legacy);
    assert.equal(plan.secret.metadata.labels?.[LABEL_CREATED_BY]?.length, 56);
  });

  test('Secrets are written with ESO\'s field manager names', () => {
    assert.equal(fieldOwnerFor('app-db'), 'externalsecrets.external-secrets.io/app-db');
    const long = 'x'.repeat(40);
    assert.match(fieldOwnerFor(long), /^externalsecrets\.external-secrets\.io\/sha3\/[0-9a-f]{56}$/);
    assert.ok(writeRecordKey('y'.repeat(200)).length - WRITE_RECORD_PREFIX.length <= 63);
  });
});

describe('PrivilegedSecretType (ESO\'s privileged-template guard)', () => {
  const sa = 'kubernetes.io/service-account-token';
  const saName = 'kubernetes.io/service-account.name';
  const cases: Array<[string, ExternalSecret, Secret | undefined, string]> = [
    ['bootstrap token type', anExternalSecret(withData('k', 'r'), withTemplate({ type: 'bootstrap.kubernetes.io/token' })), undefined,
      'template.type="bootstrap.kubernetes.io/token" is not allowed'],
    ['service-account token bound in template.metadata', anExternalSecret(withData('k', 'r'), withTemplate({ type: sa, metadata: { annotations: { [saName]: 'admin' } } })), undefined,
      'template.type="kubernetes.io/service-account-token" with annotation "kubernetes.io/service-account.name" is not allowed'],
    ['service-account token with templateFrom target Annotations', anExternalSecret(withData('k', 'r'), withTemplate({ type: sa, templateFrom: [{ target: 'Annotations', literal: 'x: y' }] })), undefined,
      'template.type="kubernetes.io/service-account-token" with templateFrom target="Annotations" is not allowed'],
    ['Merge into an existing bound service-account token Secret', anExternalSecret(withCreationPolicy('Merge'), withData('token', 'r')),
      aSecret(withSecretType(sa), withSecretAnnotations({ [saName]: 'admin' })),
      'template.type="kubernetes.io/service-account-token" with annotation "kubernetes.io/service-account.name" is not allowed (the existing Secret has this type)'],
    ['Merge that adds the binding annotation to a service-account token Secret', anExternalSecret(withCreationPolicy('Merge'), withData('k', 'r'), withAnnotations({ [saName]: 'admin' })),
      aSecret(withSecretType(sa)),
      'template.type="kubernetes.io/service-account-token" with annotation "kubernetes.io/service-account.name" is not allowed (the existing Secret has this type)'],
    ['Merge into a bootstrap token Secret', anExternalSecret(withCreationPolicy('Merge'), withData('k', 'r')), aSecret(withSecretType('bootstrap.kubernetes.io/token')),
      'template.type="bootstrap.kubernetes.io/token" is not allowed (the existing Secret has this type)'],
  ];
  for (const [name, es, existing, message] of cases) {
    test(name, () => {
      const err = refused(es, v('x'), existing, { renderTemplate: (i) => ({ data: new Map(i.data), annotations: { x: 'y' } }) });
      assert.equal(err.code, 'PrivilegedSecretType');
      assert.equal(err.message, message);
    });
  }
  test('a binding annotation that only the rendered template produces is refused too', () => {
    const es = anExternalSecret(withData('k', 'r'), withTemplate({ type: sa, data: { k: '{{ .k }}' } }));
    const err = refused(es, v('x'), undefined, { renderTemplate: (i) => ({ data: new Map(i.data), annotations: { [saName]: 'admin' } }) });
    assert.equal(err.code, 'PrivilegedSecretType');
    assert.equal(err.message, 'template.type="kubernetes.io/service-account-token" with annotation "kubernetes.io/service-account.name" is not allowed');
  });
  test('an unbound service-account token type and other types are allowed', () => {
    assert.equal(write(anExternalSecret(withData('k', 'r'), withTemplate({ type: sa })), v('x')).secret.type, sa);
    assert.equal(write(anExternalSecret(withData('k', 'r'), withTemplate({ type: 'kubernetes.io/tls', metadata: { annotations: { [saName]: 'a' } } })), v('x')).secret.type, 'kubernetes.io/tls');
  });
});

describe('deletionPolicy Delete deletes only what this ExternalSecret owns', () => {
  const deleter = anExternalSecret(withName('deleter'), withUid('uid-deleter'), withTargetName('shared'), withDeletionPolicy('Delete'), withData('k', 'gone'));
  const notFound = { data: [NOT_FOUND] };

  test('a foreign Secret of the target name is refused, not deleted', () => {
    assert.equal(refused(deleter, notFound, foreign()).code, 'SecretNotManaged');
  });

  test("another ExternalSecret's Secret is refused, not deleted", () => {
    const other = anExternalSecret(withName('other'), withUid('uid-other'), withTargetName('shared'), withData('k', 'r'));
    const theirs = asCached(write(other, v('x')).secret);
    assert.equal(refused(deleter, notFound, theirs).code, 'SecretOwnedByOther');
  });

  test('its own Secret, or none, is deleted', () => {
    const ours = asCached(write(deleter, v('x')).secret);
    const r = run(deleter, notFound, ours);
    assert.ok(r.ok && r.plan.action === 'delete');
    const none = run(deleter, notFound);
    assert.ok(none.ok && none.plan.action === 'delete');
  });
});
