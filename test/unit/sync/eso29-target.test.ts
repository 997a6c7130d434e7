// ESO 2.9's target additions in the pure core: template.metadata.finalizers on the written Secret,
// and the ConfigMap view of generic targets (spec.target.manifest): data as text, ESO's data-hash
// of the text, binaryData kept, values that are not text refused without quoting them.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ANNOTATION_DATA_HASH } from '../../../src/api/constants.ts';
import { configMapAsSecret, forConfigMapTarget, secretAsConfigMap, type ConfigMap } from '../../../src/sync/configmap-target.ts';
import { refusedGenericKind } from '../../../src/sync/generic-target.ts';
import { esoStringMapHash } from '../../../src/sync/eso-hash.ts';
import { SyncError } from '../../../src/sync/errors.ts';
import { unchangedSinceWritten } from '../../../src/sync/secret.ts';
import { asExisting, planDrivers } from '../../fixtures/plans.ts';
import { aSecret, anExternalSecret, managed, ownedBy, remote, withData, withTarget, withTemplate } from '../../fixtures/builders.ts';

const { written } = planDrivers();

describe('template.metadata.finalizers', () => {
  const es = anExternalSecret(withData('k', 'r'), withTemplate({ metadata: { finalizers: ['example.com/keep'] } }));

  test('are added to the Secret, next to the finalizers it has, and the Secret is then up to date', () => {
    const plan = written(es, { data: [remote('v')] });
    assert.deepEqual(plan.secret.metadata.finalizers, ['example.com/keep']);
    const existing = asExisting(plan.secret);
    existing.metadata.finalizers = ['other.io/theirs', 'example.com/keep'];
    const again = written(es, { data: [remote('v')] }, { existing });
    assert.equal(again.upToDate, true);
    assert.deepEqual(again.secret.metadata.finalizers, ['other.io/theirs', 'example.com/keep'], 'an update keeps the finalizers already there');
  });

  test('a Secret missing one is not up to date; one being deleted gets none', () => {
    const plan = written(es, { data: [remote('v')] });
    const stripped = asExisting(plan.secret);
    delete stripped.metadata.finalizers;
    assert.equal(written(es, { data: [remote('v')] }, { existing: stripped }).upToDate, false);
    const deleting = asExisting(plan.secret);
    deleting.metadata.finalizers = [];
    deleting.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
    assert.equal(written(es, { data: [remote('v')] }, { existing: deleting }).secret.metadata.finalizers, undefined);
  });
});

describe('generic target: the ConfigMap view', () => {
  const es = anExternalSecret(withData('url', 'r'), withTarget({ manifest: { apiVersion: 'v1', kind: 'ConfigMap' } }));

  test("ESO's data-hash of a generic target: Go's sha3-224 of fmt %+v of the map[string]any read back", () => {
    // Computed with Go 1.26: fmt.Sprintf("%+v", map[string]any{"url": "https://x.example", "b": "two words", "ä": "ü"}).
    assert.equal(esoStringMapHash(new Map([['url', 'https://x.example'], ['b', 'two words'], ['ä', 'ü']])), 'eee301e0ba418c855fdb25b8330cf42f655ea9166c81993a75c5cb95');
  });

  test('a ConfigMap is always a target; a refused kind is named with the field', () => {
    assert.equal(refusedGenericKind({ apiVersion: 'v1', kind: 'ConfigMap' }, ['AppConfig.config.example.com']), undefined);
    const refused = refusedGenericKind({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application' }, ['AppConfig.config.example.com']);
    assert.equal(refused?.code, 'UnsupportedTargetKind');
    assert.equal(refused?.field, 'spec.target.manifest');
  });

  test('the planned Secret becomes a ConfigMap with text data and ESO\'s hash of the text', () => {
    const plan = written(forConfigMapTarget(es), { data: [remote('https://x.example')] });
    const cm = secretAsConfigMap(plan.secret, undefined);
    assert.equal(cm.kind, 'ConfigMap');
    assert.deepEqual(cm.data, { url: 'https://x.example' });
    assert.equal(cm.metadata.annotations?.[ANNOTATION_DATA_HASH], esoStringMapHash(new Map([['url', 'https://x.example']])));
    // Read back, the ConfigMap is what this ExternalSecret wrote: no rewrite, no fresh read.
    const back = configMapAsSecret({ ...cm, metadata: { ...cm.metadata, uid: 'u', resourceVersion: '2' } });
    assert.equal(unchangedSinceWritten(back, es.metadata.name!), true);
    assert.equal(written(forConfigMapTarget(es), { data: [remote('https://x.example')] }, { existing: back }).upToDate, true);
    // A hand edit of the text reads as an edit.
    const edited = configMapAsSecret({ ...cm, data: { url: 'https://edited.example' } });
    assert.equal(unchangedSinceWritten(edited, es.metadata.name!), false);
  });

  test('template.type and immutable mean nothing for a ConfigMap (ESO ignores them)', () => {
    const typed = anExternalSecret(withData('url', 'r'), withTarget({ manifest: { apiVersion: 'v1', kind: 'ConfigMap' }, immutable: true, template: { type: 'kubernetes.io/tls' } }));
    const view = forConfigMapTarget(typed);
    assert.equal(view.spec.target?.immutable, undefined);
    assert.equal(view.spec.target?.template?.type, undefined);
  });

  test('binaryData of an existing ConfigMap is kept; a value that is not UTF-8 is refused by position', () => {
    const plan = written(forConfigMapTarget(es), { data: [remote('ok')] });
    const existing: ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, binaryData: { blob: 'AAE=' } };
    assert.deepEqual(secretAsConfigMap(plan.secret, existing).binaryData, { blob: 'AAE=' });
    const binary = written(forConfigMapTarget(es), { data: [remote(new Uint8Array([0xff, 0xfe, 0x41]))] });
    assert.throws(() => secretAsConfigMap(binary.secret, undefined), (e: unknown) =>
      e instanceof SyncError && e.code === 'ConfigMapValueNotText' && /value 1 of 1/.test(e.message) && !e.message.includes('url'));
  });

  test('an unmanaged ConfigMap is refused as an unmanaged Secret is (ADR 0004)', () => {
    const foreign = configMapAsSecret({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: es.metadata.name!, namespace: 'default', uid: 'u' }, data: { url: 'theirs' } });
    const { errorOf } = planDrivers();
    assert.equal(errorOf(forConfigMapTarget(es), { data: [remote('v')] }, { existing: foreign }).code, 'SecretNotManaged');
    const ours = aSecret(managed(), ownedBy('other', 'other-uid'));
    assert.equal(errorOf(forConfigMapTarget(es), { data: [remote('v')] }, { existing: ours }).code, 'SecretOwnedByOther');
  });
});
