import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ANNOTATION_DATA_HASH, LABEL_MANAGED, LABEL_MANAGED_VALUE, applyDefaults, toV1, validate, formatIssues,
} from '../../../src/api/index.ts';

const es = (spec: Record<string, unknown>, apiVersion = 'external-secrets.io/v1') =>
  ({ apiVersion, kind: 'ExternalSecret', metadata: { name: 'db', namespace: 'app' }, spec });
const data = (secretKey: string, key = 'remote') => ({ secretKey, remoteRef: { key } });
const paths = (issues: Array<{ path: string }>) => issues.map((i) => i.path);

test('a minimal ExternalSecret is valid in v1 and v1beta1', () => {
  for (const v of ['external-secrets.io/v1', 'external-secrets.io/v1beta1']) {
    assert.deepEqual(validate('ExternalSecret', es({ secretStoreRef: { name: 'aws' }, data: [data('password')] }, v)), [], v);
  }
});

test('required fields are named', () => {
  const issues = validate('ExternalSecret', es({ data: [{ secretKey: 'a', remoteRef: {} }] }));
  assert.deepEqual(issues, [{ path: 'spec.data[0].remoteRef.key', message: 'Required value' }]);
  assert.deepEqual(paths(validate('ExternalSecret', { apiVersion: 'external-secrets.io/v1', metadata: {} })), ['spec']);
});

test('enums are named with the supported values', () => {
  const issues = validate('ExternalSecret', es({ data: [data('a')], target: { creationPolicy: 'Own' } }));
  assert.equal(formatIssues(issues), 'spec.target.creationPolicy: Unsupported value: "Own": supported values: "Owner", "Orphan", "Merge", "None", "CreateOrMerge"');
  for (const [field, value] of [['decodingStrategy', 'Base32'], ['conversionStrategy', 'Ascii'], ['metadataPolicy', 'All']] as const) {
    const bad = validate('ExternalSecret', es({ data: [{ secretKey: 'a', remoteRef: { key: 'k', [field]: value } }] }));
    assert.deepEqual(paths(bad), [`spec.data[0].remoteRef.${field}`]);
  }
  assert.deepEqual(paths(validate('ExternalSecret', es({ data: [data('a')], refreshPolicy: 'Always' }))), ['spec.refreshPolicy']);
});

test('refreshInterval must be a Go duration', () => {
  for (const ok of ['1h', '0', '2h30m', '10s', '1.5h']) {
    assert.deepEqual(validate('ExternalSecret', es({ data: [data('a')], refreshInterval: ok })), [], ok);
  }
  for (const bad of ['1d', '10', 'soon', '-1h']) {
    assert.deepEqual(paths(validate('ExternalSecret', es({ data: [data('a')], refreshInterval: bad }))), ['spec.refreshInterval'], bad);
  }
});

test('secretKey and names follow Kubernetes patterns', () => {
  assert.deepEqual(paths(validate('ExternalSecret', es({ data: [data('bad key')] }))), ['spec.data[0].secretKey']);
  assert.deepEqual(paths(validate('ExternalSecret', es({ data: [data('a')], target: { name: 'Not_A_Name' } }))), ['spec.target.name']);
});

test('cross-field rules from ESO webhook', () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ target: { creationPolicy: 'Merge', deletionPolicy: 'Delete' }, data: [data('a')] }, 'spec.target.deletionPolicy'],
    [{ target: { creationPolicy: 'None', deletionPolicy: 'Delete' }, data: [data('a')] }, 'spec.target.deletionPolicy'],
    [{ target: { creationPolicy: 'None', deletionPolicy: 'Merge' }, data: [data('a')] }, 'spec.target.deletionPolicy'],
    [{ secretStoreRef: { name: 's' } }, 'spec'],
    [{ data: [], dataFrom: [] }, 'spec'],
    [{ dataFrom: [{}] }, 'spec.dataFrom[0]'],
    [{ dataFrom: [{ extract: { key: 'a' }, find: { path: 'x' } }] }, 'spec.dataFrom[0]'],
    [{ dataFrom: [{ find: { path: 'x' }, sourceRef: { generatorRef: { kind: 'Password', name: 'p' } } }] }, 'spec.dataFrom[0]'],
    [{ data: [data('a'), data('a', 'other')] }, 'spec.data'],
  ];
  for (const [spec, path] of cases) {
    const issues = validate('ExternalSecret', es(spec));
    assert.deepEqual(paths(issues), [path], JSON.stringify(spec));
  }
  // ESO allows these.
  const allowed: Array<Record<string, unknown>> = [
    { target: { creationPolicy: 'Orphan', deletionPolicy: 'Delete' }, data: [data('a')] },
    { target: { creationPolicy: 'Merge', deletionPolicy: 'Merge' }, data: [data('a')] },
    { target: { deletionPolicy: 'Delete' }, data: [data('a'), data('a', 'other')] },
    { dataFrom: [{ sourceRef: { generatorRef: { kind: 'Password', name: 'p' } } }] },
    { dataFrom: [{ extract: { key: 'a' }, sourceRef: { storeRef: { name: 'other', kind: 'ClusterSecretStore' } } }] },
  ];
  for (const spec of allowed) assert.deepEqual(validate('ExternalSecret', es(spec)), [], JSON.stringify(spec));
});

test('sourceRef needs exactly one of storeRef / generatorRef', () => {
  assert.deepEqual(paths(validate('ExternalSecret', es({ dataFrom: [{ extract: { key: 'a' }, sourceRef: {} }] }))), ['spec.dataFrom[0].sourceRef']);
});

test('unknown fields are reported (kubectl strict validation), or ignored on request', () => {
  const obj = es({ data: [data('a')], refreshIntervall: '1h' });
  assert.deepEqual(validate('ExternalSecret', obj), [{ path: 'spec.refreshIntervall', message: 'field not declared in schema' }]);
  assert.deepEqual(validate('ExternalSecret', obj, { unknownFields: false }), []);
});

test('apiVersion and kind are checked', () => {
  assert.deepEqual(paths(validate('ExternalSecret', { ...es({ data: [data('a')] }), apiVersion: 'external-secrets.io/v1alpha1' })), ['apiVersion']);
  assert.deepEqual(paths(validate('SecretStore', es({ data: [data('a')] }))), ['kind']);
});

const store = (provider: Record<string, unknown>, kind = 'SecretStore', extra: Record<string, unknown> = {}) =>
  ({ apiVersion: 'external-secrets.io/v1', kind, metadata: { name: 's' }, spec: { provider, ...extra } });

test('stores: exactly one provider; modelled providers are validated', () => {
  assert.deepEqual(validate('SecretStore', store({ aws: { service: 'SecretsManager', region: 'eu-west-1' } })), []);
  assert.deepEqual(paths(validate('SecretStore', store({}))), ['spec.provider']);
  assert.deepEqual(paths(validate('SecretStore', store({ aws: { service: 'SecretsManager', region: 'x' }, fake: { data: [] } }))), ['spec.provider']);
  assert.deepEqual(paths(validate('SecretStore', store({ aws: { service: 'KMS', region: 'x' } }))), ['spec.provider.aws.service']);
  assert.deepEqual(paths(validate('SecretStore', store({ aws: { service: 'SecretsManager' } }))), ['spec.provider.aws.region']);
  assert.deepEqual(paths(validate('SecretStore', store({ vault: { auth: { kubernetes: {} } } }))).sort(),
    ['spec.provider.vault.auth.kubernetes.role', 'spec.provider.vault.server']);
  assert.deepEqual(validate('SecretStore', store({ vault: { server: 'http://v:8200', auth: { tokenSecretRef: { name: 't', key: 'token' } } } })), []);
  assert.deepEqual(validate('SecretStore', store({ kubernetes: { auth: { serviceAccount: { name: 'sa' } } } })), []);
  assert.deepEqual(paths(validate('SecretStore', store({ kubernetes: { auth: {} } }))), ['spec.provider.kubernetes.auth']);
  assert.deepEqual(validate('SecretStore', store({ fake: { data: [{ key: 'k', value: 'v' }] } })), []);
});

test('stores: other providers (even unknown ones) are kept as written', () => {
  assert.deepEqual(validate('SecretStore', store({ doppler: { project: 'p', auth: { anything: true } } })), []);
  assert.deepEqual(validate('ClusterSecretStore', store({ brandnew: { x: 1 } }, 'ClusterSecretStore')), []);
});

test('ClusterSecretStore conditions', () => {
  const ok = store({ fake: { data: [] } }, 'ClusterSecretStore', {
    conditions: [{ namespaces: ['team-a'], namespaceRegexes: ['^team-.*'], namespaceSelector: { matchLabels: { env: 'prod' } } }],
  });
  assert.deepEqual(validate('ClusterSecretStore', ok), []);
  const bad = store({ fake: { data: [] } }, 'ClusterSecretStore', { conditions: [{ namespaces: ['Team_A'] }] });
  assert.deepEqual(paths(validate('ClusterSecretStore', bad)), ['spec.conditions[0].namespaces[0]']);
});

test('applyDefaults fills ESO defaults without touching the input', () => {
  const input = es({ data: [data('a')], dataFrom: [{ find: { name: { regexp: '.*' } } }] });
  const out = applyDefaults('ExternalSecret', input) as any;
  // ESO renders the default as metav1.Duration prints it.
  assert.equal(out.spec.refreshInterval, '1h0m0s');
  assert.deepEqual(out.spec.target, { creationPolicy: 'Owner', deletionPolicy: 'Retain' });
  // ESO 2.9's v1 CRD adds nothing to remoteRef or find; its v1beta1 CRD still defaults them.
  assert.deepEqual(out.spec.data[0].remoteRef, { key: 'remote' });
  assert.deepEqual(out.spec.dataFrom[0].find, { name: { regexp: '.*' } });
  const beta = applyDefaults('ExternalSecret', es({ data: [data('a')], dataFrom: [{ find: { name: { regexp: '.*' } } }] }, 'external-secrets.io/v1beta1')) as any;
  assert.deepEqual(beta.spec.data[0].remoteRef, { key: 'remote', metadataPolicy: 'None', conversionStrategy: 'Default', decodingStrategy: 'None' });
  assert.equal(beta.spec.dataFrom[0].find.decodingStrategy, 'None');
  assert.equal((input.spec as any).refreshInterval, undefined);
  const withTemplate = applyDefaults('ExternalSecret', es({ data: [data('a')], target: { template: { type: 'Opaque' } } })) as any;
  assert.deepEqual(withTemplate.spec.target, { creationPolicy: 'Owner', deletionPolicy: 'Retain', template: { type: 'Opaque', engineVersion: 'v2', mergePolicy: 'Replace' } });
  const vault = applyDefaults('SecretStore', store({ vault: { server: 's', auth: { kubernetes: { role: 'r' } } } })) as any;
  assert.equal(vault.spec.provider.vault.version, 'v2');
  assert.equal(vault.spec.provider.vault.auth.kubernetes.mountPath, 'kubernetes');
});

test('toV1 rewrites only the apiVersion', () => {
  const beta = es({ data: [data('a')] }, 'external-secrets.io/v1beta1');
  assert.deepEqual(toV1(beta), { ...beta, apiVersion: 'external-secrets.io/v1' });
  const other = { apiVersion: 'v1', kind: 'Secret' };
  assert.equal(toV1(other), other);
});

test('API names match ESO', () => {
  assert.equal(LABEL_MANAGED, 'reconcile.external-secrets.io/managed');
  assert.equal(LABEL_MANAGED_VALUE, 'true');
  assert.equal(ANNOTATION_DATA_HASH, 'reconcile.external-secrets.io/data-hash');
});

test("a provider's config is checked by its own part of the schema, with the whole store's verdict", async () => {
  const { validateProviderConfig } = await import('../../../src/api/validate.ts');
  // The whole-store check, kept to the provider's fields: what validateProviderConfig answered
  // before it compiled the provider's part alone.
  const whole = (provider: string, config: unknown) => {
    const prefix = `spec.provider.${provider}`;
    const store = { apiVersion: 'external-secrets.io/v1', kind: 'SecretStore', metadata: { name: 'store' }, spec: { provider: { [provider]: config } } };
    return validate('SecretStore', store, { unknownFields: false }).filter((i) => i.path === prefix || i.path.startsWith(`${prefix}.`) || i.path.startsWith(`${prefix}[`));
  };
  const cases: Array<[string, unknown]> = [
    ['aws', { service: 'SecretsManager', region: 'eu-west-1' }],
    ['aws', { service: 'Vault', region: 'eu-west-1', auth: { secretRef: { accessKeyIDSecretRef: { key: 7 } } } }],
    ['aws', { region: 'eu-west-1', secretsManager: { forceDeleteWithoutRecovery: 'yes', recoveryWindowInDays: 'x' } }],
    ['aws', {}],
    ['vault', { server: 'https://vault', path: 'secret', version: 'v3', auth: { tokenSecretRef: { name: 'v', key: 'token' } } }],
    ['vault', { auth: { kubernetes: { mountPath: 7, role: 'r' } }, caProvider: { type: 'Map' } }],
    ['gcpsm', { projectID: 5, auth: { workloadIdentity: { clusterLocation: 'x' } } }],
    ['azurekv', { vaultUrl: 'https://v', authType: 'Magic', environmentType: 'Moon' }],
    ['kubernetes', { server: { url: 'https://k', caProvider: { type: 'Nope', name: 'x' } }, auth: { token: { bearerToken: { name: 't' } } } }],
    ['fake', { data: [{ key: '' }, { value: 3 }] }],
    ['webhook', { url: 'https://w', method: 7, timeout: '10 seconds', result: {} }],
  ];
  let failing = 0;
  for (const [provider, config] of cases) {
    const expected = whole(provider, config);
    failing += expected.length > 0 ? 1 : 0;
    assert.deepEqual(validateProviderConfig(provider, config), expected, `${provider} ${JSON.stringify(config)}`);
  }
  assert.ok(failing >= 8, `most cases carry problems (${failing}), so the comparison checks messages too`);
  assert.throws(() => validateProviderConfig('nosuch', {}), /no provider "nosuch"/, 'a name the schema lacks is a programming error, not an empty verdict');
});
