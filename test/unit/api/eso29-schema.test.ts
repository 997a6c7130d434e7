// The schema additions of ESO 2.9 (issue 11 part 2), checked with the offline validator, which
// uses the same schema objects as the CRDs (test/integration/eso29-admission.test.ts sends the
// same objects to a real apiserver).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validate } from '../../../src/api/index.ts';
import { storeRefreshIntervalMs } from '../../../src/api/duration.ts';

const V1 = 'external-secrets.io/v1';
const V1BETA1 = 'external-secrets.io/v1beta1';
const es = (spec: Record<string, unknown>, apiVersion = V1) =>
  ({ apiVersion, kind: 'ExternalSecret', metadata: { name: 'db', namespace: 'app' }, spec: { secretStoreRef: { name: 's' }, ...spec } });
const store = (spec: Record<string, unknown>, apiVersion = V1) =>
  ({ apiVersion, kind: 'SecretStore', metadata: { name: 's' }, spec: { provider: { fake: { data: [] } }, ...spec } });
const paths = (issues: Array<{ path: string }>) => issues.map((i) => i.path);

test('store refreshInterval: v1 takes seconds or a Go duration string, v1beta1 seconds only (as ESO 2.9)', () => {
  for (const ok of [0, 300, '5m', '1h30m', '0s', '0']) assert.deepEqual(validate('SecretStore', store({ refreshInterval: ok })), [], String(ok));
  for (const bad of ['5 minutes', '-1m', '', 'PT5M', -1, 1.5]) {
    assert.deepEqual([...new Set(paths(validate('SecretStore', store({ refreshInterval: bad }))))], ['spec.refreshInterval'], String(bad));
  }
  assert.deepEqual(validate('SecretStore', store({ refreshInterval: 300 }, V1BETA1)), []);
  assert.deepEqual(paths(validate('SecretStore', store({ refreshInterval: '5m' }, V1BETA1))), ['spec.refreshInterval']);
  assert.deepEqual(validate('ClusterSecretStore', { ...store({ refreshInterval: '10m' }), kind: 'ClusterSecretStore' }), []);
});

test('storeRefreshIntervalMs reads both forms as ESO\'s GetRefreshInterval does', () => {
  assert.equal(storeRefreshIntervalMs(undefined), 0);
  assert.equal(storeRefreshIntervalMs(0), 0);
  assert.equal(storeRefreshIntervalMs(300), 300_000);
  assert.equal(storeRefreshIntervalMs('5m'), 300_000);
  assert.equal(storeRefreshIntervalMs('1.5s'), 1500);
  assert.equal(storeRefreshIntervalMs('0s'), 0);
  // A tenant's "1ns" or "500ms" would revalidate (call the provider) in a loop: one second at least.
  assert.equal(storeRefreshIntervalMs('1ns'), 1000);
  assert.equal(storeRefreshIntervalMs('500ms'), 1000);
  assert.throws(() => storeRefreshIntervalMs(-1), /must be a non-negative number of seconds/);
  assert.throws(() => storeRefreshIntervalMs('-5m'), /must not be negative/);
  assert.throws(() => storeRefreshIntervalMs('soon'), /invalid duration/);
});

test('Vault auth.cert.vaultRole is accepted', () => {
  const vault = { server: 'https://vault:8200', auth: { cert: { clientCert: { name: 'c', key: 'tls.crt' }, secretRef: { name: 'c', key: 'tls.key' }, vaultRole: 'web' } } };
  assert.deepEqual(validate('SecretStore', store({ provider: { vault } })), []);
});

test('AWS service CertificateManager is admitted (the store status reports it unsupported)', () => {
  assert.deepEqual(validate('SecretStore', store({ provider: { aws: { service: 'CertificateManager', region: 'eu-west-1' } } })), []);
  assert.deepEqual(paths(validate('SecretStore', store({ provider: { aws: { service: 'KMS', region: 'eu-west-1' } } }))), ['spec.provider.aws.service']);
});

test('generatorRef.kind: ESO 2.9\'s enums (v1 adds the BeyondTrust and GitLab generators; v1beta1 unchanged)', () => {
  const gen = (kind: string, v = V1) => es({ dataFrom: [{ sourceRef: { generatorRef: { kind, name: 'g' } } }] }, v);
  for (const kind of ['BeyondtrustWorkloadCredentialsDynamicSecret', 'GitlabDeployToken', 'MFA', 'CloudsmithAccessToken', 'Password']) {
    assert.deepEqual(validate('ExternalSecret', gen(kind)), [], kind);
  }
  assert.deepEqual(paths(validate('ExternalSecret', gen('GitlabDeployToken', V1BETA1))), ['spec.dataFrom[0].sourceRef.generatorRef.kind']);
  assert.deepEqual(paths(validate('ExternalSecret', gen('Nope'))), ['spec.dataFrom[0].sourceRef.generatorRef.kind']);
});

test('creationPolicy CreateOrMerge: v1 only; with deletionPolicy Delete refused as ESO\'s webhook does', () => {
  const spec = (target: Record<string, unknown>) => ({ target, data: [{ secretKey: 'a', remoteRef: { key: 'k' } }] });
  assert.deepEqual(validate('ExternalSecret', es(spec({ creationPolicy: 'CreateOrMerge' }))), []);
  assert.deepEqual(validate('ExternalSecret', es(spec({ creationPolicy: 'CreateOrMerge', deletionPolicy: 'Merge' }))), []);
  const del = validate('ExternalSecret', es(spec({ creationPolicy: 'CreateOrMerge', deletionPolicy: 'Delete' })));
  assert.deepEqual(paths(del), ['spec.target.deletionPolicy']);
  assert.match(del[0]!.message, /Please set creationPolicy=Owner/);
  assert.deepEqual(paths(validate('ExternalSecret', es(spec({ creationPolicy: 'CreateOrMerge' }), V1BETA1))), ['spec.target.creationPolicy']);
});

test('nullBytePolicy on remoteRef, extract and find (v1 only)', () => {
  const spec = {
    data: [{ secretKey: 'a', remoteRef: { key: 'k', nullBytePolicy: 'Fail' } }],
    dataFrom: [{ extract: { key: 'k', nullBytePolicy: 'Ignore' } }, { find: { name: { regexp: '.*' }, nullBytePolicy: 'Fail' } }],
  };
  assert.deepEqual(validate('ExternalSecret', es(spec)), []);
  assert.deepEqual(paths(validate('ExternalSecret', es({ data: [{ secretKey: 'a', remoteRef: { key: 'k', nullBytePolicy: 'Strip' } }] }))), ['spec.data[0].remoteRef.nullBytePolicy']);
  assert.ok(paths(validate('ExternalSecret', es(spec, V1BETA1))).every((p) => p.endsWith('nullBytePolicy')));
  assert.equal(validate('ExternalSecret', es(spec, V1BETA1)).length, 3);
});

test('templateFrom: target in any case and valuesDecodingStrategy (v1); v1beta1 keeps its enum', () => {
  const tf = (from: Record<string, unknown>, v = V1) => es({ data: [{ secretKey: 'a', remoteRef: { key: 'k' } }], target: { template: { templateFrom: [{ literal: 'a: b', ...from }] } } }, v);
  for (const target of ['Data', 'data', 'DATA', 'Annotations', 'annotations', 'Labels', 'lAbElS', '']) {
    assert.deepEqual(validate('ExternalSecret', tf({ target })), [], target);
  }
  // ESO 2.9's paths for generic targets are admitted (the sync core refuses them for a Secret,
  // and refuses metadata, kind, apiVersion and status paths for any target); malformed ones are not.
  for (const target of ['spec.database', 'spec.rules[0].from[1].source', 'Datas']) {
    assert.deepEqual(validate('ExternalSecret', tf({ target })), [], target);
  }
  for (const target of ['spec..database', '[0].foo', 'spec.a b', 'spec.a[x]', `spec.${'a'.repeat(260)}`]) {
    assert.deepEqual(paths(validate('ExternalSecret', tf({ target }))), ['spec.target.template.templateFrom[0].target'], target);
  }
  assert.deepEqual(paths(validate('ExternalSecret', tf({ target: 'data' }, V1BETA1))), ['spec.target.template.templateFrom[0].target']);
  for (const s of ['Auto', 'Base64', 'Base64URL', 'None']) assert.deepEqual(validate('ExternalSecret', tf({ valuesDecodingStrategy: s })), [], s);
  assert.deepEqual(paths(validate('ExternalSecret', tf({ valuesDecodingStrategy: 'Hex' }))), ['spec.target.template.templateFrom[0].valuesDecodingStrategy']);
});
