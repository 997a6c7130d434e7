// The ExternalSecret fields ESO 2.9 added and the sync core implements: creationPolicy
// CreateOrMerge, nullBytePolicy, templateFrom[].valuesDecodingStrategy and templateFrom[].target in
// any case. Each is compared with ESO 2.9's behaviour (pkg/controllers/externalsecret,
// runtime/template/v2) as documented in the test names.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ANNOTATION_DATA_HASH, LABEL_CREATED_BY, LABEL_MANAGED } from '../../../src/api/constants.ts';
import type { TemplateFrom } from '../../../src/api/types.generated.ts';
import { desiredSecret, type SyncPlan } from '../../../src/sync/desired.ts';
import { makeRenderTemplate, renderKeyTemplate } from '../../../src/sync/template.ts';
import {
  aSecret, anExternalSecret, found, ownedBy, remote, textData, withCreationPolicy, withData, withExtract, withFind,
  withSecretData, withTemplate,
} from '../../fixtures/builders.ts';
import { asExisting, planDrivers } from '../../fixtures/plans.ts';

const { planOf, written, errorOf } = planDrivers({ renderTemplate: makeRenderTemplate({}), renderKeyTemplate });

describe('creationPolicy CreateOrMerge (create when missing, else merge)', () => {
  const es = anExternalSecret(withCreationPolicy('CreateOrMerge'), withData('mine', 'r'));

  test('creates the Secret when it is missing, without an ownerReference, with the data-hash', () => {
    const plan = written(es, { data: [remote('v1')] });
    assert.equal(plan.mode, 'create');
    assert.equal(plan.creationPolicy, 'CreateOrMerge');
    assert.deepEqual(textData(plan.secret), { mine: 'v1' });
    assert.equal(plan.secret.metadata.ownerReferences, undefined);
    assert.equal(plan.secret.metadata.annotations![ANNOTATION_DATA_HASH], plan.hash);
    // Written as Merge writes, so no Owner/Orphan ExternalSecret can claim it later (ADR 0004).
    assert.equal(plan.secret.metadata.labels![LABEL_MANAGED], undefined);
    assert.equal(plan.secret.metadata.labels![LABEL_CREATED_BY], undefined);
  });

  test('the Secret it created is up to date on the next sync (no flip between create and merge)', () => {
    const first = written(es, { data: [remote('v1')] });
    const again = written(es, { data: [remote('v1')] }, { existing: asExisting(first.secret) });
    assert.equal(again.mode, 'update');
    assert.equal(again.upToDate, true);
    const changed = written(es, { data: [remote('v2')] }, { existing: asExisting(first.secret) });
    assert.equal(changed.upToDate, false);
    assert.equal(changed.secret.metadata.annotations![ANNOTATION_DATA_HASH], changed.hash, 'keeps its data-hash true');
  });

  test('merges into a Secret someone else owns: keeps its keys, owners and type', () => {
    const existing = aSecret(ownedBy('cert', 'cert-uid', 'Certificate', 'cert-manager.io/v1'), withSecretData({ 'tls.crt': 'c', mine: 'old' }));
    const plan = written(es, { data: [remote('new')] }, { existing });
    assert.equal(plan.mode, 'update');
    assert.deepEqual(textData(plan.secret), { 'tls.crt': 'c', mine: 'new' });
    assert.equal(plan.secret.metadata.ownerReferences![0]!.kind, 'Certificate');
    assert.equal(plan.secret.metadata.labels?.[LABEL_MANAGED], undefined);
    assert.deepEqual(plan.ownedKeys, ['mine']);
  });

  test('where Merge fails on a missing Secret, CreateOrMerge creates it', () => {
    assert.equal(planOf(anExternalSecret(withCreationPolicy('Merge'), withData('mine', 'r')), { data: [remote('v')] }).condition.reason, 'SecretMissing');
    assert.equal(written(es, { data: [remote('v')] }).mode, 'create');
  });
});

describe('nullBytePolicy', () => {
  const nul = new Uint8Array([0x61, 0x00, 0x62]);

  test('unset or Ignore keeps binary values as they are', () => {
    for (const policy of [undefined, 'Ignore'] as const) {
      const plan = written(anExternalSecret(withData('bin', 'r', policy ? { nullBytePolicy: policy } : {})), { data: [remote(nul)] });
      assert.deepEqual([...Buffer.from(plan.secret.data!['bin']!, 'base64')], [0x61, 0x00, 0x62]);
    }
  });

  test('Fail refuses a data[] value with a NUL byte, naming the Secret key and the field, never the value', () => {
    const err = errorOf(anExternalSecret(withData('bin', 'r', { nullBytePolicy: 'Fail' })), { data: [remote(nul)] });
    assert.equal(err.code, 'NullByteInValue');
    assert.equal(err.field, 'spec.data[0].remoteRef.nullBytePolicy');
    assert.equal(err.message, 'fetched secret value for key "bin" contains null bytes; use a text-safe format such as PEM/base64 or leave nullBytePolicy unset for intentional binary data');
    assert.equal(written(anExternalSecret(withData('txt', 'r', { nullBytePolicy: 'Fail' })), { data: [remote('plain')] }).action, 'write');
  });

  test('Fail checks after decoding, as ESO does: base64 of a NUL byte fails, the base64 text itself does not', () => {
    const b64 = Buffer.from(nul).toString('base64');
    assert.equal(written(anExternalSecret(withData('k', 'r', { nullBytePolicy: 'Fail' })), { data: [remote(b64)] }).action, 'write');
    const err = errorOf(anExternalSecret(withData('k', 'r', { nullBytePolicy: 'Fail', decodingStrategy: 'Base64' })), { data: [remote(b64)] });
    assert.equal(err.code, 'NullByteInValue');
  });

  test('Fail on extract and find names the first key in sorted order', () => {
    const extract = errorOf(anExternalSecret(withExtract('doc', { nullBytePolicy: 'Fail', decodingStrategy: 'Base64' })),
      { dataFrom: [remote(JSON.stringify({ z: Buffer.from(nul).toString('base64'), b: Buffer.from(nul).toString('base64'), a: 'YQ==' }))] });
    assert.equal(extract.field, 'spec.dataFrom[0].extract.nullBytePolicy');
    assert.match(extract.message, /^fetched secret value for key "b" contains null bytes/);
    const find = errorOf(anExternalSecret(withFind({ name: { regexp: '.*' }, nullBytePolicy: 'Fail' })),
      { dataFrom: [new Map([['y', remote(nul)], ['x', remote(nul)], ['a', remote('ok')]])] });
    assert.equal(find.field, 'spec.dataFrom[0].find.nullBytePolicy');
    assert.match(find.message, /^fetched secret value for key "x" contains null bytes/);
    assert.equal(written(anExternalSecret(withFind({ name: { regexp: '.*' } })), { dataFrom: [found({ a: 'ok' })] }).action, 'write');
  });
});

describe('templateFrom', () => {
  const literal = (from: Omit<TemplateFrom, 'literal'>, text: string) =>
    anExternalSecret(withData('user', 'u'), withTemplate({ templateFrom: [{ ...from, literal: text }] }));
  const fetched = { data: [remote('admin')] };

  test('target is matched in any case (data, DATA, Annotations, labels); empty is Data', () => {
    assert.deepEqual(textData(written(literal({ target: 'data' }, 'a: "{{ .user }}"'), fetched).secret), { a: 'admin' });
    assert.deepEqual(textData(written(literal({ target: 'DATA' }, 'a: "{{ .user }}"'), fetched).secret), { a: 'admin' });
    assert.deepEqual(textData(written(literal({ target: '' }, 'a: "{{ .user }}"'), fetched).secret), { a: 'admin' });
    const ann = written(literal({ target: 'annotations' }, 'example.com/who: "{{ .user }}"'), fetched);
    assert.equal(ann.secret.metadata.annotations!['example.com/who'], 'admin');
    const lab = written(literal({ target: 'LABELS' }, 'who: "{{ .user }}"'), fetched);
    assert.equal(lab.secret.metadata.labels!['who'], 'admin');
  });

  test('a target that is a path (ESO: custom-resource targets only) is refused for a Secret, naming the field', () => {
    const err = errorOf(literal({ target: 'metadata.ownerReferences' }, 'a: b'), fetched);
    assert.equal(err.code, 'TemplateFailed');
    assert.equal(err.field, 'spec.target.template.templateFrom[0].target');
  });

  test('valuesDecodingStrategy decodes each rendered value (KeysAndValues and Values)', () => {
    const plan = written(literal({ valuesDecodingStrategy: 'Base64' }, 'a: "{{ .user | b64enc }}"\nb: \'{{ "x-y" | b64enc }}\''), fetched);
    assert.deepEqual(textData(plan.secret), { a: 'admin', b: 'x-y' });
    const auto = written(literal({ valuesDecodingStrategy: 'Auto' }, 'a: "not base64!"\nb: "YWRtaW4="'), fetched);
    assert.deepEqual(textData(auto.secret), { a: 'not base64!', b: 'admin' }, 'Auto keeps what does not decode');
    const none = written(literal({ valuesDecodingStrategy: 'None' }, 'a: "YWRtaW4="'), fetched);
    assert.deepEqual(textData(none.secret), { a: 'YWRtaW4=' });
    const labels = written(literal({ target: 'Labels', valuesDecodingStrategy: 'Base64URL' }, 'who: "{{ .user | b64enc }}"'), fetched);
    assert.equal(labels.secret.metadata.labels!['who'], 'admin');
  });

  test('valuesDecodingStrategy: a value that does not decode fails, by position, never quoting the value', () => {
    const err = errorOf(literal({ valuesDecodingStrategy: 'Base64' }, 'a: "{{ .user }}"'), fetched);
    assert.equal(err.code, 'DecodeFailed');
    assert.equal(err.field, 'spec.target.template.templateFrom[0].valuesDecodingStrategy');
    assert.doesNotMatch(err.message, /admin/);
    assert.match(err.message, /key 0 of the rendered map/);
  });

  test('valuesDecodingStrategy applies to templateAs Values items of a ConfigMap', () => {
    const es = anExternalSecret(withData('user', 'u'), withTemplate({
      templateFrom: [{ configMap: { name: 'tpl', items: [{ key: 'greeting' }] }, valuesDecodingStrategy: 'Base64' }],
    }));
    const result = desiredSecret({
      externalSecret: es,
      fetched: { data: [remote('admin')], dataFrom: [] },
      renderTemplate: makeRenderTemplate({ configMaps: new Map([['tpl', { greeting: '{{ printf "hi %s" .user | b64enc }}' }]]) }),
      renderKeyTemplate,
    });
    if (!result.ok) assert.fail(result.error.message);
    assert.equal(result.plan.action, 'write');
    assert.deepEqual(textData((result.plan as Extract<SyncPlan, { action: 'write' }>).secret), { greeting: 'hi admin' });
  });
});
