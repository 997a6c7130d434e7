import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ANNOTATION_DATA_HASH, LABEL_CREATED_BY, LABEL_MANAGED } from '../../../src/api/constants.ts';
import { NOT_FOUND } from '../../../src/sync/desired.ts';
import {
  aSecret, anExternalSecret, found, immutableSecret, managed, ownedBy, remote, textData, withAnnotations,
  withCreationPolicy, withData, withDeletionPolicy, withExtract, withFind, withGenerator, withImmutable, withLabels,
  withManagedFields, withName, withRefresh, withSecretAnnotations, withSecretData, withSecretLabels, withSecretName,
  withSecretType, withTargetName, withTemplate, withUid,
} from '../../fixtures/builders.ts';
import { asExisting, planDrivers } from '../../fixtures/plans.ts';

const { planOf, written, errorOf } = planDrivers();

describe('data[]', () => {
  test('creates an owned Secret with the managed label, owner reference and hash', () => {
    const es = anExternalSecret(withRefresh('1h'), withData('password', 'prod/db', { property: 'password' }), withData('user', 'prod/user'),
      withLabels({ team: 'a' }), withAnnotations({ note: 'x', 'kubectl.kubernetes.io/last-applied-configuration': '{}' }));
    const plan = written(es, { data: [remote('{"password":"s3cret"}'), remote('admin')] });
    assert.equal(plan.mode, 'create');
    assert.equal(plan.upToDate, false);
    assert.deepEqual(textData(plan.secret), { password: 's3cret', user: 'admin' });
    assert.equal(plan.secret.metadata.name, 'app-db');
    assert.equal(plan.secret.metadata.namespace, 'team-a');
    assert.equal(plan.secret.type, 'Opaque');
    assert.equal(plan.secret.metadata.labels![LABEL_MANAGED], 'true');
    assert.equal(plan.secret.metadata.labels!['team'], 'a', 'ExternalSecret labels are copied when there is no template');
    assert.match(plan.secret.metadata.labels![LABEL_CREATED_BY]!, /^[0-9a-f]{56}$/);
    assert.equal(plan.secret.metadata.annotations!['note'], 'x');
    assert.equal(plan.secret.metadata.annotations!['kubectl.kubernetes.io/last-applied-configuration'], undefined);
    assert.equal(plan.secret.metadata.annotations![ANNOTATION_DATA_HASH], plan.hash);
    assert.deepEqual(plan.secret.metadata.ownerReferences, [{
      apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret', name: 'app-db', uid: 'es-uid-1', controller: true, blockOwnerDeletion: true,
    }]);
    assert.deepEqual(plan.ownedKeys, ['password', 'user']);
    assert.deepEqual(plan.condition, { type: 'Ready', status: 'True', reason: 'SecretSynced', message: 'secret synced' });
  });

  test('target.name overrides the Secret name', () => {
    assert.equal(written(anExternalSecret(withTargetName('other'), withData('k', 'r')), { data: [remote('v')] }).secret.metadata.name, 'other');
  });

  test('decodingStrategy applies after property extraction', () => {
    const es = anExternalSecret(withData('cert', 'tls', { property: 'crt', decodingStrategy: 'Base64' }), withData('raw', 'b64', { decodingStrategy: 'Auto' }));
    const plan = written(es, { data: [remote('{"crt":"aGVsbG8="}'), remote('d29ybGQ=')] });
    assert.deepEqual(textData(plan.secret), { cert: 'hello', raw: 'world' });
  });

  test('binary values survive byte for byte', () => {
    const bytes = new Uint8Array([0, 255, 128, 10]);
    const plan = written(anExternalSecret(withData('bin', 'k')), { data: [remote(bytes)] });
    assert.deepEqual([...Buffer.from(plan.secret.data!['bin']!, 'base64')], [0, 255, 128, 10]);
  });

  test('invalid base64 is an error naming the field, not the value', () => {
    const err = errorOf(anExternalSecret(withData('k', 'remote', { decodingStrategy: 'Base64' })), { data: [remote('hunter2!')] });
    assert.equal(err.code, 'DecodeFailed');
    assert.equal(err.field, 'spec.data[0].remoteRef.decodingStrategy');
    assert.doesNotMatch(err.message, /hunter2/);
  });

  test('missing property is a typed error', () => {
    const err = errorOf(anExternalSecret(withData('k', 'db', { property: 'nope' })), { data: [remote('{"a":"s3cret"}')] });
    assert.equal(err.code, 'PropertyNotFound');
    assert.equal(err.reason, 'SecretSyncedError');
    assert.doesNotMatch(err.message, /s3cret/);
  });

  test('duplicate secretKey with deletionPolicy=Retain is refused', () => {
    const err = errorOf(anExternalSecret(withData('k', 'a'), withData('k', 'b')), { data: [remote('1'), remote('2')] });
    assert.equal(err.code, 'DuplicateSecretKey');
    const plan = written(anExternalSecret(withDeletionPolicy('Delete'), withData('k', 'a'), withData('k', 'b')), { data: [remote('1'), remote('2')] });
    assert.deepEqual(textData(plan.secret), { k: '2' }, 'with other policies the last one wins, as in ESO');
  });

  test('fetched values must line up with the spec', () => {
    assert.equal(errorOf(anExternalSecret(withData('k', 'a')), { data: [] }).code, 'FetchedValuesMismatch');
  });
});

describe('dataFrom[]', () => {
  test('extract: strings unquoted, nested values and numbers as written, null as empty', () => {
    const es = anExternalSecret(withExtract('app/config'));
    const plan = written(es, { dataFrom: [remote('{"user":"admin","port":5432,"ratio":1.50,"nested":{"b": 1},"list":[1,2],"flag":true,"none":null}')] });
    assert.deepEqual(textData(plan.secret), { user: 'admin', port: '5432', ratio: '1.5', nested: '{"b": 1}', list: '[1,2]', flag: 'true', none: '' });
  });

  test('extract with property reads a nested object', () => {
    const plan = written(anExternalSecret(withExtract('app', { property: 'db' })), { dataFrom: [remote('{"db":{"host":"h","port":1}}')] });
    assert.deepEqual(textData(plan.secret), { host: 'h', port: '1' });
  });

  test('extract needs a JSON object', () => {
    const err = errorOf(anExternalSecret(withExtract('plain')), { dataFrom: [remote('just-a-password')] });
    assert.equal(err.code, 'ExtractNotJSONObject');
    assert.doesNotMatch(err.message, /just-a-password/);
  });

  test('keys are converted (Default / Unicode) unless rewritten', () => {
    const value = remote('{"a/b":"1","c d":"2"}');
    assert.deepEqual(Object.keys(textData(written(anExternalSecret(withExtract('k')), { dataFrom: [value] }).secret)).sort(), ['a_b', 'c_d']);
    assert.deepEqual(Object.keys(textData(written(anExternalSecret(withExtract('k', { conversionStrategy: 'Unicode' })), { dataFrom: [value] }).secret)).sort(),
      ['a_U002f_b', 'c_U0020_d']);
    const rewritten = anExternalSecret(withExtract('k', {}, [{ regexp: { source: '[/ ]', target: '-' } }]));
    assert.deepEqual(Object.keys(textData(written(rewritten, { dataFrom: [value] }).secret)).sort(), ['a-b', 'c-d']);
  });

  test('a rewrite that leaves an invalid key is a clear error', () => {
    const es = anExternalSecret(withExtract('k', {}, [{ regexp: { source: '^a', target: 'x' } }]));
    const err = errorOf(es, { dataFrom: [remote('{"a/b":"1"}')] });
    assert.equal(err.code, 'InvalidSecretKey');
    assert.match(err.message, /"x\/b"/);
    assert.equal(err.field, 'spec.dataFrom[0]');
  });

  test('conversion collisions are refused', () => {
    const err = errorOf(anExternalSecret(withExtract('k')), { dataFrom: [remote('{"a/b":"1","a b":"2"}')] });
    assert.equal(err.code, 'KeyCollision');
  });

  test('empty keys are dropped, as in ESO', () => {
    const plan = written(anExternalSecret(withExtract('k', {}, [{ regexp: { source: '^drop$', target: '' } }])), { dataFrom: [remote('{"drop":"1","keep":"2"}')] });
    assert.deepEqual(textData(plan.secret), { keep: '2' });
  });

  test('find: keys by remote name, converted and decoded', () => {
    const es = anExternalSecret(withFind({ name: { regexp: '^app/' }, decodingStrategy: 'Base64' }));
    const plan = written(es, { dataFrom: [found({ 'app/one': 'MQ==', 'app/two': 'Mg==' })] });
    assert.deepEqual(textData(plan.secret), { app_one: '1', app_two: '2' });
  });

  test('generator values are used as they are (rewrite allowed)', () => {
    const es = anExternalSecret(withGenerator('pw', [{ regexp: { source: 'password', target: 'pw' } }]));
    const plan = written(es, { dataFrom: [found({ password: 'Zm9v' })] });
    assert.deepEqual(textData(plan.secret), { pw: 'Zm9v' });
  });

  test('later dataFrom entries win, and data[] wins over dataFrom', () => {
    const es = anExternalSecret(withExtract('a'), withExtract('b'), withData('k', 'c'));
    const plan = written(es, { dataFrom: [remote('{"k":"from-a","x":"a","y":"a"}'), remote('{"x":"from-b"}')], data: [remote('from-data')] });
    assert.deepEqual(textData(plan.secret), { k: 'from-data', x: 'from-b', y: 'a' });
  });
});

describe('provider NotFound and deletionPolicy', () => {
  test('Retain: a missing remote secret is an error', () => {
    const err = errorOf(anExternalSecret(withData('k', 'gone')), { data: [NOT_FOUND] });
    assert.equal(err.code, 'ProviderSecretNotFound');
    assert.equal(err.field, 'spec.data[0]');
    assert.match(err.message, /key="gone"/);
  });

  test('Delete: nothing left deletes the Secret', () => {
    const plan = planOf(anExternalSecret(withDeletionPolicy('Delete'), withData('k', 'gone'), withExtract('also-gone')), { data: [NOT_FOUND], dataFrom: [NOT_FOUND] });
    assert.equal(plan.action, 'delete');
    assert.deepEqual(plan.condition, { type: 'Ready', status: 'True', reason: 'SecretDeleted', message: 'secret deleted due to DeletionPolicy=Delete' });
    assert.equal(plan.skipped.length, 2);
  });

  test('Delete: a partial NotFound drops only that key', () => {
    const plan = written(anExternalSecret(withDeletionPolicy('Delete'), withData('a', 'x'), withData('b', 'gone')), { data: [remote('1'), NOT_FOUND] });
    assert.deepEqual(textData(plan.secret), { a: '1' });
    assert.deepEqual(plan.skipped, [{ field: 'spec.data[1]', message: 'secret does not exist at provider using spec.data[1] (key=gone)' }]);
  });

  test('Delete refuses to delete a Secret it does not own', () => {
    const err = errorOf(anExternalSecret(withCreationPolicy('Orphan'), withDeletionPolicy('Delete'), withData('k', 'gone')), { data: [NOT_FOUND] });
    assert.equal(err.code, 'DeleteNotOwned');
  });

  test('Merge: keys are removed but the Secret is kept', () => {
    const existing = aSecret(managed(), ownedBy('app-db', 'es-uid-1'), withSecretData({ a: '1', b: '2', other: 'x' }), withManagedFields('app-db', { data: ['a', 'b'] }));
    const plan = written(anExternalSecret(withDeletionPolicy('Merge'), withData('a', 'x'), withData('b', 'gone')), { data: [remote('1'), NOT_FOUND] }, { existing });
    assert.deepEqual(textData(plan.secret), { a: '1' }, 'Owner replaces data');
    const allGone = written(anExternalSecret(withDeletionPolicy('Merge'), withData('a', 'x')), { data: [NOT_FOUND] }, { existing });
    assert.deepEqual(textData(allGone.secret), {});
  });

  test('Retain with an empty find leaves everything as is', () => {
    const plan = planOf(anExternalSecret(withFind({ name: { regexp: 'none' } })), { dataFrom: [new Map()] });
    assert.deepEqual([plan.action, plan.action === 'none' && plan.reason], ['none', 'ProviderDataEmpty']);
    // ESO's Ready message for this case, word for word.
    assert.deepEqual(plan.condition, { type: 'Ready', status: 'True', reason: 'SecretSynced', message: 'secret retained due to DeletionPolicy=Retain' });
  });
});

describe('creationPolicy', () => {
  test('None writes nothing', () => {
    const plan = planOf(anExternalSecret(withCreationPolicy('None'), withData('k', 'r')), { data: [remote('v')] });
    assert.deepEqual([plan.action, plan.action === 'none' && plan.reason], ['none', 'CreationPolicyNone']);
  });

  test('Merge without an existing Secret writes nothing: Ready=True SecretMissing, as ESO', () => {
    const plan = planOf(anExternalSecret(withCreationPolicy('Merge'), withData('k', 'r')), { data: [remote('v')] });
    assert.deepEqual([plan.action, plan.action === 'none' && plan.reason], ['none', 'MergeTargetMissing']);
    assert.deepEqual(plan.condition, { type: 'Ready', status: 'True', reason: 'SecretMissing', message: 'secret will not be created due to CreationPolicy=Merge' });
  });

  test('Merge keeps other keys, owners and type; removes only keys it wrote before', () => {
    const existing = aSecret(withSecretType('kubernetes.io/tls'), ownedBy('cert', 'cert-uid', 'Certificate', 'cert-manager.io/v1'),
      withSecretData({ 'tls.crt': 'c', 'tls.key': 'k', old: 'o', mine: 'm0' }), withManagedFields('app-db', { data: ['old', 'mine'] }));
    const plan = written(anExternalSecret(withCreationPolicy('Merge'), withData('mine', 'r')), { data: [remote('m1')] }, { existing });
    assert.deepEqual(textData(plan.secret), { 'tls.crt': 'c', 'tls.key': 'k', mine: 'm1' });
    assert.equal(plan.secret.type, 'kubernetes.io/tls');
    assert.equal(plan.secret.metadata.ownerReferences![0]!.kind, 'Certificate');
    assert.equal(plan.secret.metadata.labels![LABEL_CREATED_BY], undefined);
    assert.deepEqual(plan.ownedKeys, ['mine']);
    assert.equal(plan.mode, 'update');
  });

  test('Orphan: no owner reference', () => {
    const plan = written(anExternalSecret(withCreationPolicy('Orphan'), withData('k', 'r')), { data: [remote('v')] });
    assert.equal(plan.secret.metadata.ownerReferences, undefined);
    assert.equal(plan.secret.metadata.labels![LABEL_MANAGED], 'true');
  });

  test('without a uid (offline render) no owner reference is set', () => {
    const plan = written(anExternalSecret(withUid(undefined), withData('k', 'r')), { data: [remote('v')] });
    assert.equal(plan.secret.metadata.ownerReferences, undefined);
  });
});

describe('ownership safety', () => {
  const es = anExternalSecret(withData('k', 'r'));
  const fetched = { data: [remote('v')] };

  test('an unmanaged Secret is not overwritten', () => {
    const err = errorOf(es, fetched, { existing: aSecret(withSecretData({ precious: 'x' })) });
    assert.equal(err.code, 'SecretNotManaged');
    assert.equal(err.message, 'secret "app-db" exists and is not managed by this ExternalSecret; delete it, or use creationPolicy=Merge');
    assert.equal(errorOf(anExternalSecret(withCreationPolicy('Orphan'), withData('k', 'r')), fetched, { existing: aSecret() }).code, 'SecretNotManaged');
  });

  test('a Secret controlled by another ExternalSecret or controller is refused', () => {
    const other = errorOf(es, fetched, { existing: aSecret(managed(), ownedBy('someone-else', 'uid-2')) });
    assert.equal(other.code, 'SecretOwnedByOther');
    assert.match(other.message, /ExternalSecret "someone-else"/);
    assert.equal(errorOf(es, fetched, { existing: aSecret(managed(), ownedBy('x', 'y', 'Deployment', 'apps/v1')) }).code, 'SecretOwnedByOther');
    const orphanOfOther = aSecret(managed(), withManagedFields('other-es', { data: ['k'] }));
    assert.equal(errorOf(es, fetched, { existing: orphanOfOther }).code, 'SecretOwnedByOther');
  });

  test('our own Secret is updated; a managed orphan without field managers is adopted', () => {
    const ours = written(es, fetched, { existing: aSecret(managed(), ownedBy('app-db', 'es-uid-1'), withSecretData({ k: 'old' })) });
    assert.equal(ours.mode, 'update');
    assert.deepEqual(textData(ours.secret), { k: 'v' });
    assert.equal(written(es, fetched, { existing: aSecret(managed()) }).mode, 'update');
  });
});

describe('change detection', () => {
  const es = anExternalSecret(withData('a', 'r1'), withData('b', 'r2'), withLabels({ team: 'a' }));
  const fetched = { data: [remote('1'), remote('2')] };

  test('the hash is stable and the written Secret is up to date', () => {
    const first = written(es, fetched);
    const again = written(es, fetched);
    assert.equal(first.hash, again.hash);
    const second = written(es, fetched, { existing: asExisting(first.secret) });
    assert.equal(second.upToDate, true);
    assert.equal(second.hash, first.hash);
  });

  test('the hash does not depend on key order', () => {
    const swapped = anExternalSecret(withData('b', 'r2'), withData('a', 'r1'), withLabels({ team: 'a' }));
    assert.equal(written(swapped, { data: [remote('2'), remote('1')] }).hash, written(es, fetched).hash);
  });

  test('drift is detected: edited value, extra key, changed label, missing owner', () => {
    const base = asExisting(written(es, fetched).secret);
    const edited = structuredClone(base); edited.data!['a'] = Buffer.from('tampered').toString('base64');
    const extra = structuredClone(base); extra.data!['x'] = 'eA==';
    const relabelled = structuredClone(base); relabelled.metadata.labels!['team'] = 'b';
    for (const existing of [edited, extra, relabelled]) assert.equal(written(es, fetched, { existing }).upToDate, false);
    const disowned = structuredClone(base); disowned.metadata.ownerReferences = undefined;
    assert.equal(written(es, fetched, { existing: disowned }).upToDate, false);
  });

  test('a new value changes the hash', () => {
    assert.notEqual(written(es, { data: [remote('1'), remote('3')] }).hash, written(es, fetched).hash);
  });

  test('labels it wrote before and no longer wants are removed; others are kept', () => {
    const existing = aSecret(managed(), ownedBy('app-db', 'es-uid-1'), withSecretLabels({ old: 'x', foreign: 'y' }),
      withSecretAnnotations({ gone: 'z' }), withManagedFields('app-db', { labels: ['old'], annotations: ['gone'] }));
    const plan = written(es, fetched, { existing });
    assert.equal(plan.secret.metadata.labels!['old'], undefined);
    assert.equal(plan.secret.metadata.labels!['foreign'], 'y');
    assert.equal(plan.secret.metadata.annotations!['gone'], undefined);
  });
});

describe('immutable', () => {
  test('target.immutable makes the Secret immutable', () => {
    assert.equal(written(anExternalSecret(withImmutable(), withData('k', 'r')), { data: [remote('v')] }).secret.immutable, true);
  });

  test('an immutable Secret whose data would change is an error', () => {
    const es = anExternalSecret(withImmutable(), withData('k', 'r'));
    const existing = aSecret(managed(), ownedBy('app-db', 'es-uid-1'), immutableSecret(), withSecretData({ k: 'old' }));
    assert.equal(errorOf(es, { data: [remote('new')] }, { existing }).code, 'ImmutableSecretChanged');
    const same = aSecret(managed(), ownedBy('app-db', 'es-uid-1'), immutableSecret(), withSecretData({ k: 'new' }));
    assert.equal(written(es, { data: [remote('new')] }, { existing: same }).secret.immutable, true);
  });
});

describe('target.template', () => {
  test('data templates need an engine', () => {
    const es = anExternalSecret(withData('k', 'r'), withTemplate({ data: { 'config.yaml': 'password: {{ .k }}' } }));
    assert.equal(errorOf(es, { data: [remote('v')] }).code, 'TemplateEngineUnavailable');
  });

  test('type and literal metadata work without an engine; template labels replace the ExternalSecret ones', () => {
    const es = anExternalSecret(withLabels({ team: 'a' }), withData('.dockerconfigjson', 'r'),
      withTemplate({ type: 'kubernetes.io/dockerconfigjson', metadata: { labels: { app: 'x' }, annotations: { a: 'b' } } }));
    const plan = written(es, { data: [remote('{}')] });
    assert.equal(plan.secret.type, 'kubernetes.io/dockerconfigjson');
    assert.equal(plan.secret.metadata.labels!['app'], 'x');
    assert.equal(plan.secret.metadata.labels!['team'], undefined);
    assert.equal(plan.secret.metadata.annotations!['a'], 'b');
    assert.deepEqual(textData(plan.secret), { '.dockerconfigjson': '{}' });
  });

  test('renderTemplate: Replace and Merge merge policies', () => {
    const render = ({ data }: { data: ReadonlyMap<string, Uint8Array> }) => ({
      data: new Map([['dsn', new TextEncoder().encode(`postgres://${new TextDecoder().decode(data.get('user'))}`)]]),
      labels: { rendered: 'yes' },
    });
    const replace = anExternalSecret(withData('user', 'r'), withTemplate({ data: { dsn: '...' } }));
    const plan = written(replace, { data: [remote('admin')] }, { renderTemplate: render });
    assert.deepEqual(textData(plan.secret), { dsn: 'postgres://admin' });
    assert.equal(plan.secret.metadata.labels!['rendered'], 'yes');
    const merge = anExternalSecret(withData('user', 'r'), withTemplate({ mergePolicy: 'Merge', data: { dsn: '...' } }));
    assert.deepEqual(textData(written(merge, { data: [remote('admin')] }, { renderTemplate: render }).secret), { dsn: 'postgres://admin', user: 'admin' });
  });

  test('template errors become TemplateFailed', () => {
    const es = anExternalSecret(withData('k', 'r'), withTemplate({ data: { x: '{{ bad' } }));
    const err = errorOf(es, { data: [remote('v')] }, { renderTemplate: () => { throw new Error('template: x:1: unclosed action'); } });
    assert.equal(err.code, 'TemplateFailed');
    assert.equal(err.field, 'spec.target.template');
  });

  test('the Secret type is immutable', () => {
    const es = anExternalSecret(withData('k', 'r'), withTemplate({ type: 'kubernetes.io/tls' }));
    const existing = aSecret(managed(), ownedBy('app-db', 'es-uid-1'), withSecretType('Opaque'));
    assert.equal(errorOf(es, { data: [remote('v')] }, { existing }).code, 'SecretTypeChanged');
  });
});

test('a renamed target is a different Secret', () => {
  const es = anExternalSecret(withName('renamed'), withData('k', 'r'));
  const plan = written(es, { data: [remote('v')] }, { existing: undefined });
  assert.equal(plan.secret.metadata.name, 'renamed');
  assert.equal(aSecret(withSecretName('x')).metadata.name, 'x');
});
