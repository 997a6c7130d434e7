// Generic targets of kinds other than ConfigMap (src/sync/generic-target.ts): which kinds are
// refused, ESO's path syntax, where data and templates land in the object (spec.data without a
// template; top-level data, labels, annotations and paths with one), ESO's data-hash of the
// content, the up-to-date test, and the ownership rules of the core applied to the object.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ANNOTATION_DATA_HASH } from '../../../src/api/constants.ts';
import {
  buildGenericTarget, forGenericTarget, genericContentHash, genericTargetAsSecret, genericTargetUpToDate, parseTargetPath,
  PATH_TEMPLATE_KEY_PREFIX, refusedGenericKind, setAtPath, type GenericObject,
} from '../../../src/sync/generic-target.ts';
import { makeRenderTemplate } from '../../../src/sync/template.ts';
import { SyncError } from '../../../src/sync/errors.ts';
import type { ExternalSecret } from '../../../src/api/types.generated.ts';
import { planDrivers } from '../../fixtures/plans.ts';
import { anExternalSecret, remote, withCreationPolicy, withData, withTarget, withUid } from '../../fixtures/builders.ts';

const { run } = planDrivers({ renderTemplate: makeRenderTemplate() });
const appConfig = { apiVersion: 'config.example.com/v1', kind: 'AppConfig' };

/** The object the controller would write for `es` against `existing`, as syncGenericTarget builds it. */
function objectFor(es: ExternalSecret, values: string[], existing?: GenericObject): GenericObject {
  const { externalSecret, paths } = forGenericTarget(es);
  const result = run(externalSecret, { data: values.map((v) => remote(v)) }, { existing: existing ? genericTargetAsSecret(existing, es) : undefined });
  if (!result.ok) throw result.error;
  assert.equal(result.plan.action, 'write');
  const plan = result.plan as Extract<typeof result.plan, { action: 'write' }>;
  return buildGenericTarget({ externalSecret: es, planned: plan.secret, paths, existing });
}

describe('generic targets: which kinds', () => {
  test('kinds that grant identities, run workloads or manage ExternalSecrets are refused, naming the field', () => {
    for (const [apiVersion, kind] of [['v1', 'Secret'], ['v1', 'ServiceAccount'], ['v1', 'Pod'], ['apps/v1', 'Deployment'], ['batch/v1', 'CronJob'],
      ['rbac.authorization.k8s.io/v1', 'RoleBinding'], ['coordination.k8s.io/v1', 'Lease'], ['external-secrets.io/v1', 'ExternalSecret'], ['generators.external-secrets.io/v1alpha1', 'Password']]) {
      const e = refusedGenericKind({ apiVersion: apiVersion!, kind: kind! }, undefined);
      assert.equal(e?.code, 'UnsupportedTargetKind', `${apiVersion} ${kind}`);
      assert.equal(e?.field, 'spec.target.manifest');
    }
    assert.match(refusedGenericKind({ apiVersion: 'v1', kind: 'Secret' }, undefined)!.message, /remove spec\.target\.manifest/);
  });

  test('any other kind is allowed; --generic-target-kinds narrows it to the kinds and groups it names', () => {
    assert.equal(refusedGenericKind(appConfig, undefined), undefined);
    assert.equal(refusedGenericKind({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application' }, []), undefined);
    const allow = ['AppConfig.config.example.com', '*.argoproj.io'];
    assert.equal(refusedGenericKind(appConfig, allow), undefined);
    assert.equal(refusedGenericKind({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application' }, allow), undefined);
    assert.equal(refusedGenericKind({ apiVersion: 'v1', kind: 'ConfigMap' }, allow), undefined, 'ConfigMap always');
    assert.match(refusedGenericKind({ apiVersion: 'other.example.com/v1', kind: 'AppConfig' }, allow)!.message, /--generic-target-kinds/);
    assert.equal(refusedGenericKind({ apiVersion: 'apps/v1', kind: 'Deployment' }, ['Deployment.apps'])?.code, 'UnsupportedTargetKind', 'the refused kinds stay refused');
  });
});

describe('generic targets: paths', () => {
  test("ESO's syntax: keys and [n] indexes, a key first; metadata and the object's identity are never paths", () => {
    assert.deepEqual(parseTargetPath('spec.rules[0].from[1].source', 'f'), [{ key: 'spec' }, { key: 'rules' }, { index: 0 }, { key: 'from' }, { index: 1 }, { key: 'source' }]);
    for (const bad of ['', 'spec..x', '[0].foo', 'spec.a[', 'spec.a[x]', 'spec.a[10001]', 'metadata.namespace', 'metadata', 'kind', 'status.x', 'a.'.repeat(40) + 'b']) {
      assert.throws(() => parseTargetPath(bad, 'spec.target.template.templateFrom[0].target'),
        (e: unknown) => e instanceof SyncError && e.field === 'spec.target.template.templateFrom[0].target', bad);
    }
  });

  test('a path merges a map into the map there, creates what is missing and grows arrays; one key replaces', () => {
    const obj: Record<string, unknown> = { spec: { database: { keep: 1, host: 'old' }, other: true } };
    setAtPath(obj, { key: 'k', tokens: parseTargetPath('spec.database', 'f'), target: 'spec.database', field: 'f' }, { host: 'new', port: 5432 });
    assert.deepEqual(obj.spec, { database: { keep: 1, host: 'new', port: 5432 }, other: true });
    setAtPath(obj, { key: 'k', tokens: parseTargetPath('spec.rules[1].ips', 'f'), target: 'spec.rules[1].ips', field: 'f' }, ['10.0.0.0/8']);
    assert.deepEqual((obj.spec as Record<string, unknown>).rules, [null, { ips: ['10.0.0.0/8'] }]);
    setAtPath(obj, { key: 'k', tokens: parseTargetPath('spec', 'f'), target: 'spec', field: 'f' }, { only: 1 });
    assert.deepEqual(obj.spec, { only: 1 });
    assert.throws(() => setAtPath(obj, { key: 'k', tokens: parseTargetPath('spec.only.x', 'f'), target: 'spec.only.x', field: 'f' }, 1), SyncError);
  });

  test('the array elements the paths of one object may create are bounded, however the indexes nest', () => {
    const path = (t: string) => ({ key: 'k', tokens: parseTargetPath(t, 'f'), target: t, field: 'f' });
    const budget = { slots: 10_000 };
    const obj: Record<string, unknown> = {};
    setAtPath(obj, path('spec.a[9999]'), 1, budget);
    assert.equal(budget.slots, 0);
    // Nested indexes would otherwise grow 10,001 elements per level.
    assert.throws(() => setAtPath(obj, path('spec.b[0][5]'), 1, budget), (e: unknown) => e instanceof SyncError && /more than 10000 array elements/.test(e.message));
    assert.throws(() => setAtPath({}, path('spec.c[10000][10000]'), 1), SyncError);
    // Writing inside an array already that long grows nothing.
    setAtPath(obj, path('spec.a[5]'), 2, budget);
    assert.equal(((obj.spec as Record<string, unknown>).a as unknown[])[5], 2);
  });

  test('a path target with configMap or secret items is refused; the reserved key prefix is refused in template.data', () => {
    const withItems = anExternalSecret(withTarget({ manifest: appConfig, template: { templateFrom: [{ target: 'spec.x', configMap: { name: 'c', items: [{ key: 'k' }] } }] } }));
    assert.throws(() => forGenericTarget(withItems), (e: unknown) => e instanceof SyncError && e.field === 'spec.target.template.templateFrom[0].target');
    const reserved = anExternalSecret(withTarget({ manifest: appConfig, template: { data: { [`${PATH_TEMPLATE_KEY_PREFIX}0`]: 'x' } } }));
    assert.throws(() => forGenericTarget(reserved), SyncError);
  });
});

describe('generic targets: the object', () => {
  test("without a template the data goes to spec.data, with the managed label, the owner reference and ESO's hash of spec", () => {
    const es = anExternalSecret(withUid('uid-1'), withData('url', 'r'), withTarget({ name: 'settings', manifest: appConfig }));
    const obj = objectFor(es, ['https://x.example']);
    assert.equal(obj.apiVersion, 'config.example.com/v1');
    assert.equal(obj.kind, 'AppConfig');
    assert.equal(obj.metadata.name, 'settings');
    assert.deepEqual(obj.spec, { data: { url: 'https://x.example' } });
    assert.equal(obj.data, undefined);
    assert.equal(obj.metadata.labels?.['reconcile.external-secrets.io/managed'], 'true');
    assert.equal(obj.metadata.ownerReferences?.[0]?.uid, 'uid-1');
    assert.equal(obj.metadata.annotations?.[ANNOTATION_DATA_HASH], genericContentHash({ spec: { data: { url: 'https://x.example' } } }));
  });

  test('with a template: template.data to the top-level data, literals at their paths, labels from the template', () => {
    const es = anExternalSecret(withUid('uid-1'), withData('host', 'h'), withData('pass', 'p'), withTarget({
      manifest: appConfig,
      template: {
        metadata: { labels: { app: 'demo' } },
        data: { 'conn.txt': 'db://{{ .host }}' },
        templateFrom: [
          { target: 'spec.database', literal: 'host: {{ .host }}\nport: 5432\ncredentials:\n  password: {{ .pass }}\n' },
          { target: 'spec.logging', literal: 'level: info\n' },
        ],
      },
    }));
    const obj = objectFor(es, ['db.example', 's3cret']);
    assert.deepEqual(obj.spec, { database: { host: 'db.example', port: 5432, credentials: { password: 's3cret' } }, logging: { level: 'info' } });
    assert.deepEqual(obj.data, { 'conn.txt': 'db://db.example' });
    assert.equal(obj.metadata.labels?.app, 'demo');
    assert.ok(!Object.keys(obj.metadata.annotations ?? {}).some((k) => k.includes(PATH_TEMPLATE_KEY_PREFIX)));
  });

  test('an object it wrote is up to date; a hand edit of the content or a label is not; a foreign object is refused', () => {
    const es = anExternalSecret(withUid('uid-1'), withData('url', 'r'), withTarget({ manifest: appConfig }));
    const first = objectFor(es, ['https://x.example']);
    const stored: GenericObject = { ...structuredClone(first), metadata: { ...first.metadata, uid: 'obj-1', resourceVersion: '7' } };
    const again = objectFor(es, ['https://x.example'], stored);
    assert.equal(genericTargetUpToDate(again, stored), true);
    const edited = structuredClone(stored);
    (edited.spec as { data: Record<string, string> }).data.url = 'https://edited.example';
    assert.equal(genericTargetUpToDate(objectFor(es, ['https://x.example'], edited), edited), false);
    const unlabelled = structuredClone(stored);
    delete unlabelled.metadata.labels!['reconcile.external-secrets.io/managed'];
    assert.equal(genericTargetUpToDate(objectFor(es, ['https://x.example'], stored), unlabelled), false);

    const foreign: GenericObject = { apiVersion: appConfig.apiVersion, kind: appConfig.kind, metadata: { name: es.metadata.name!, namespace: es.metadata.namespace, uid: 'f' }, spec: { data: { url: 'theirs' } } };
    const refused = run(forGenericTarget(es).externalSecret, { data: [remote('v')] }, { existing: genericTargetAsSecret(foreign, es) });
    assert.equal(refused.ok, false);
  });

  test('Merge writes into the existing object and keeps what it holds', () => {
    const es = anExternalSecret(withData('url', 'r'), withTarget({ manifest: appConfig }), withCreationPolicy('Merge'));
    const existing: GenericObject = { apiVersion: appConfig.apiVersion, kind: appConfig.kind, metadata: { name: es.metadata.name!, namespace: es.metadata.namespace, uid: 'e' }, spec: { replicas: 2, data: { other: 'keep' } } };
    const obj = objectFor(es, ['https://x.example'], existing);
    assert.deepEqual(obj.spec, { replicas: 2, data: { other: 'keep', url: 'https://x.example' } });
  });

  test("ESO's data-hash: Go's %v of the content read back (the value checked against Go for a string map)", () => {
    // Same value as esoStringMapHash's Go-computed test vector: fmt.Sprintf("%+v", map[string]any{...}).
    assert.equal(genericContentHash({ data: { url: 'https://x.example', b: 'two words', ä: 'ü' } }), 'eee301e0ba418c855fdb25b8330cf42f655ea9166c81993a75c5cb95');
    assert.notEqual(genericContentHash({ spec: { a: [1, 2.5, null, true] } }), genericContentHash({ spec: { a: [1, 2.5, null, false] } }));
  });
});
