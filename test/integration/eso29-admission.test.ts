// ESO 2.9's API additions against the real apiserver: the apiserver must accept the generated
// CRDs (structural schema, int-or-string, printer columns, CEL cost), admit what ESO 2.9 admits,
// refuse what its webhook refuses, and default as ESO's CRDs do. The CRDs are installed under a
// group of their own, so the shared external-secrets.io CRDs other tests use are never touched;
// objects are sent with dryRun=All (admission and defaulting run, nothing is stored).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { allCrds } from '../../src/api/crds.ts';
import { GROUP } from '../../src/api/constants.ts';
import { ApiError, type KubeClient } from '../../src/kube/client.ts';
import { adminClient, peers, waitFor } from './helpers.ts';

const group = `eso29-${randomBytes(3).toString('hex')}.tessera.test`;
const crdPath = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
let admin: KubeClient;
const created: string[] = [];

/** One generated CRD moved to the test group (and optionally changed before it is sent). */
function crdInTestGroup(plural: string, edit: (crd: any) => void = () => {}): any {
  const entry = allCrds().find(({ crd }) => (crd as any).spec.names.plural === plural)!;
  const crd = structuredClone(entry.crd) as any;
  crd.metadata.name = `${plural}.${group}`;
  crd.spec.group = group;
  for (const v of crd.spec.versions) if (v.deprecationWarning) v.deprecationWarning = String(v.deprecationWarning).replace(GROUP, group);
  edit(crd);
  return crd;
}

async function createCrd(crd: any): Promise<void> {
  await admin.request('POST', crdPath, { body: crd });
  created.push(crd.metadata.name);
}

/** Sends an object through admission with dryRun=All; returns what the apiserver would store. */
async function admit(version: 'v1' | 'v1beta1', plural: string, spec: Record<string, unknown>, namespaced = true): Promise<any> {
  const kind = { externalsecrets: 'ExternalSecret', secretstores: 'SecretStore', clustersecretstores: 'ClusterSecretStore' }[plural]!;
  const path = namespaced ? `/apis/${group}/${version}/namespaces/default/${plural}` : `/apis/${group}/${version}/${plural}`;
  return admin.request('POST', path, {
    query: { dryRun: 'All' },
    body: { apiVersion: `${group}/${version}`, kind, metadata: { name: `x-${randomBytes(3).toString('hex')}` }, spec },
  });
}

/** The apiserver's refusal (422) of an object, as its message. */
async function refusal(version: 'v1' | 'v1beta1', plural: string, spec: Record<string, unknown>): Promise<string> {
  try {
    await admit(version, plural, spec);
  } catch (e) {
    assert.ok(e instanceof ApiError, String(e));
    assert.equal(e.code, 422, e.message);
    return e.message;
  }
  assert.fail(`${version} ${plural} was admitted: ${JSON.stringify(spec)}`);
}

const ref = { secretStoreRef: { name: 's' } };
const oneKey = { data: [{ secretKey: 'a', remoteRef: { key: 'k' } }] };

before(async () => {
  await peers(['etcd', 'kube-apiserver']);
  admin = await adminClient('tessera-test-eso29');
  for (const plural of ['externalsecrets', 'secretstores', 'clustersecretstores']) await createCrd(crdInTestGroup(plural));
  for (const plural of ['externalsecrets', 'secretstores', 'clustersecretstores']) {
    for (const v of ['v1', 'v1beta1']) {
      await waitFor(`${plural}.${group}/${v} to be served`, () => admin.request('GET', `/apis/${group}/${v}/${plural}?limit=1`).then(() => true, () => false));
    }
  }
});

after(async () => {
  for (const name of created) await admin.request('DELETE', `${crdPath}/${name}`).catch(() => undefined);
});

describe('ExternalSecret', () => {
  test('defaults as ESO 2.9 renders them: refreshInterval 1h0m0s, nothing added to a v1 remoteRef or find', async () => {
    const out = await admit('v1', 'externalsecrets', { ...ref, ...oneKey, dataFrom: [{ find: { name: { regexp: '.*' } } }] });
    assert.equal(out.spec.refreshInterval, '1h0m0s');
    assert.deepEqual(out.spec.data[0].remoteRef, { key: 'k' });
    assert.deepEqual(out.spec.dataFrom[0].find, { name: { regexp: '.*' } });
    assert.deepEqual(out.spec.target, { creationPolicy: 'Owner', deletionPolicy: 'Retain' });
    // ESO's v1beta1 CRD still defaults the strategies.
    const beta = await admit('v1beta1', 'externalsecrets', { ...ref, ...oneKey });
    assert.deepEqual(beta.spec.data[0].remoteRef, { key: 'k', conversionStrategy: 'Default', decodingStrategy: 'None', metadataPolicy: 'None' });
  });

  test('printer columns are ESO\'s, with Last Sync', async () => {
    const crd = await admin.request<any>('GET', `${crdPath}/externalsecrets.${group}`);
    for (const v of crd.spec.versions) {
      assert.deepEqual(v.additionalPrinterColumns.map((c: any) => c.name), ['StoreType', 'Store', 'Refresh Interval', 'Status', 'Ready', 'Last Sync']);
      assert.deepEqual(v.additionalPrinterColumns.at(-1), { name: 'Last Sync', type: 'date', jsonPath: '.status.refreshTime' });
    }
  });

  test('creationPolicy CreateOrMerge is admitted; with deletionPolicy Delete it is refused, as by ESO\'s webhook', async () => {
    const out = await admit('v1', 'externalsecrets', { ...ref, ...oneKey, target: { creationPolicy: 'CreateOrMerge' } });
    assert.equal(out.spec.target.creationPolicy, 'CreateOrMerge');
    assert.match(await refusal('v1', 'externalsecrets', { ...ref, ...oneKey, target: { creationPolicy: 'CreateOrMerge', deletionPolicy: 'Delete' } }),
      /spec\.target\.deletionPolicy: Invalid value: .*Please set creationPolicy=Owner/);
  });

  test('nullBytePolicy on remoteRef, extract and find; other values refused', async () => {
    const out = await admit('v1', 'externalsecrets', {
      ...ref,
      data: [{ secretKey: 'a', remoteRef: { key: 'k', nullBytePolicy: 'Fail' } }],
      dataFrom: [{ extract: { key: 'k', nullBytePolicy: 'Ignore' } }, { find: { path: 'p', nullBytePolicy: 'Fail' } }],
    });
    assert.equal(out.spec.data[0].remoteRef.nullBytePolicy, 'Fail', 'kept, not pruned');
    assert.equal(out.spec.dataFrom[1].find.nullBytePolicy, 'Fail');
    assert.match(await refusal('v1', 'externalsecrets', { ...ref, data: [{ secretKey: 'a', remoteRef: { key: 'k', nullBytePolicy: 'Strip' } }] }),
      /spec\.data\[0\]\.remoteRef\.nullBytePolicy: Unsupported value: "Strip"/);
  });

  test('templateFrom target in any case, a path (generic targets) and valuesDecodingStrategy are admitted; a malformed path is refused', async () => {
    const tf = (from: Record<string, unknown>) => ({ ...ref, ...oneKey, target: { template: { templateFrom: [{ literal: 'a: b', ...from }] } } });
    for (const target of ['data', 'DATA', 'Annotations', 'labels', '']) {
      const out = await admit('v1', 'externalsecrets', tf({ target }));
      assert.equal(out.spec.target.template.templateFrom[0].target, target, 'stored as written; the controller normalises');
    }
    const dec = await admit('v1', 'externalsecrets', tf({ valuesDecodingStrategy: 'Base64' }));
    assert.equal(dec.spec.target.template.templateFrom[0].valuesDecodingStrategy, 'Base64');
    // ESO 2.9's v1 admits any string: paths place a literal into a generic target's object (the
    // sync refuses them for a Secret, and refuses metadata paths for any kind).
    for (const target of ['spec.database', 'spec.rules[0].from[0].source']) {
      assert.equal((await admit('v1', 'externalsecrets', tf({ target }))).spec.target.template.templateFrom[0].target, target);
    }
    for (const target of ['spec..x', 'spec x', 'spec.' + 'a'.repeat(260)]) {
      assert.match(await refusal('v1', 'externalsecrets', tf({ target })), /spec\.target\.template\.templateFrom\[0\]\.target/);
    }
    assert.match(await refusal('v1beta1', 'externalsecrets', tf({ target: 'data' })), /Unsupported value: "data"/);
  });

  test('generatorRef.kind takes ESO 2.9\'s kinds', async () => {
    for (const kind of ['GitlabDeployToken', 'BeyondtrustWorkloadCredentialsDynamicSecret']) {
      await admit('v1', 'externalsecrets', { dataFrom: [{ sourceRef: { generatorRef: { kind, name: 'g' } } }] });
    }
  });

  test('the 250-item cap on spec.data stays: without it the apiserver refuses the CRD for its CEL cost', async () => {
    const items = Array.from({ length: 251 }, (_, i) => ({ secretKey: `k${i}`, remoteRef: { key: 'k' } }));
    assert.match(await refusal('v1', 'externalsecrets', { ...ref, data: items }), /spec\.data: Too many: 251: must have at most 250 items/);
    // The measurement docs/compatibility.md cites: the duplicate-secretKey rule over an unbounded list.
    const uncapped = crdInTestGroup('externalsecrets', (crd) => {
      crd.metadata.name = `externalsecretsuncapped.${group}`;
      crd.spec.names = { ...crd.spec.names, plural: 'externalsecretsuncapped', singular: 'externalsecretuncapped', kind: 'ExternalSecretUncapped', listKind: 'ExternalSecretUncappedList', shortNames: [] };
      for (const v of crd.spec.versions) {
        delete v.schema.openAPIV3Schema.properties.spec.properties.data.maxItems;
        delete v.selectableFields;
      }
    });
    try {
      await createCrd(uncapped);
      assert.fail('the apiserver accepted the duplicate-secretKey rule over an unbounded spec.data');
    } catch (e) {
      assert.ok(e instanceof ApiError, String(e));
      assert.equal(e.code, 422);
      assert.match(e.message, /cost/i);
    }
  });
});

describe('SecretStore and ClusterSecretStore', () => {
  const fake = { provider: { fake: { data: [] } } };

  test('v1 refreshInterval takes seconds or a Go duration string, kept as written; v1beta1 seconds only', async () => {
    assert.equal((await admit('v1', 'secretstores', { ...fake, refreshInterval: '5m' })).spec.refreshInterval, '5m');
    assert.equal((await admit('v1', 'secretstores', { ...fake, refreshInterval: 300 })).spec.refreshInterval, 300);
    assert.equal((await admit('v1', 'clustersecretstores', { ...fake, refreshInterval: '1h' }, false)).spec.refreshInterval, '1h');
    for (const bad of ['soon', '-5m', -1]) assert.match(await refusal('v1', 'secretstores', { ...fake, refreshInterval: bad }), /spec\.refreshInterval/, String(bad));
    assert.match(await refusal('v1beta1', 'secretstores', { ...fake, refreshInterval: '5m' }), /spec\.refreshInterval/);
  });

  test('Vault auth.cert.vaultRole is kept, not pruned', async () => {
    const vault = { server: 'https://vault:8200', auth: { cert: { clientCert: { name: 'c', key: 'tls.crt' }, secretRef: { name: 'c', key: 'tls.key' }, vaultRole: 'web' } } };
    const out = await admit('v1', 'secretstores', { provider: { vault } });
    assert.equal(out.spec.provider.vault.auth.cert.vaultRole, 'web');
  });

  test('AWS service CertificateManager is admitted (reported unsupported on the store status at run time)', async () => {
    const out = await admit('v1', 'secretstores', { provider: { aws: { service: 'CertificateManager', region: 'eu-west-1' } } });
    assert.equal(out.spec.provider.aws.service, 'CertificateManager');
  });
});
