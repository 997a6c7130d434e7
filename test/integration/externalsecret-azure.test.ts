// ExternalSecrets synced from Azure Key Vault (spec.provider.azurekv) by the operator process,
// under its own ServiceAccount and shipped RBAC, against the real apiserver and
// controller-manager. Key Vault and Entra ID are the HTTPS servers of ./azure/servers.ts, which
// follow Microsoft's documented protocols (the Lowkey Vault emulator is not served by the
// registries this machine reaches; see that file). The operator trusts their test CA through
// NODE_EXTRA_CA_CERTS, and reaches them with the real Azure SDK: challenge auth, token requests,
// paging, error bodies.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { KubeClient } from '../../src/kube/client.ts';
import { core, type CoreEvent, type KubeObject, type Secret } from '../../src/kube/types.ts';
import { externalSecrets } from '../../src/controllers/resources.ts';
import { stateDir, type PeersEnv } from '../peers/index.ts';
import { adminClient, decodeSecret, freshNamespace, onCleanup, peers, sleep, waitFor, waitReady } from './helpers.ts';
import { installTessera, startOperator, type Operator } from './operator.ts';
import { metricSum } from './security/harness.ts';
import { EntraServer, KeyVaultServer, makePki, type TestPki } from './azure/servers.ts';

const controllerClass = 'tessera-azure-it';
// A value planted in Key Vault: it must never show up in logs, events, status or errors.
const PLANTED = `planted-${Math.random().toString(36).slice(2)}-value`;

let env: PeersEnv;
let admin: KubeClient;
let op: Operator;
let pki: TestPki;
let entra: EntraServer;
let kv: KeyVaultServer;

const secretStores = { group: 'external-secrets.io', version: 'v1', plural: 'secretstores', kind: 'SecretStore', namespaced: true } as const;

function externalSecret(ns: string, name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret', metadata: { name, namespace: ns }, spec } as KubeObject;
}

/** The azurekv block of a store whose Entra ID is the test server (customCloudConfig). */
function azurekv(extra: Record<string, unknown>): Record<string, unknown> {
  return { vaultUrl: kv.vaultUrl, tenantId: entra.tenantId, useAzureSDK: true, customCloudConfig: { activeDirectoryEndpoint: entra.authority }, ...extra };
}

/** A namespace with a ServicePrincipal store "azure" (client id and secret from a Secret). */
async function namespaceWithStore(prefix: string, clientSecret = 'sp-secret'): Promise<string> {
  const ns = await freshNamespace(admin, prefix);
  await admin.create(core.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'azure-sp', namespace: ns }, stringData: { 'client-id': 'sp-client', 'client-secret': clientSecret } } as Secret);
  await createStore(ns, 'azure', azurekv({ authSecretRef: { clientId: { name: 'azure-sp', key: 'client-id' }, clientSecret: { name: 'azure-sp', key: 'client-secret' } } }));
  return ns;
}

async function createStore(ns: string, name: string, provider: Record<string, unknown>): Promise<void> {
  await admin.apply(secretStores, { apiVersion: 'external-secrets.io/v1', kind: 'SecretStore', metadata: { name, namespace: ns }, spec: { controller: controllerClass, provider: { azurekv: provider } } } as KubeObject);
}

const waitCondition = (ns: string, name: string, status: 'True' | 'False', match?: RegExp, timeoutMs = 30_000) => waitReady(admin, ns, name, status, match, timeoutMs);

let jwk: { n: string; e: string };
let certDer: Buffer;
let v1: string;

before(async () => {
  env = await peers(['etcd', 'kube-apiserver', 'kube-controller-manager']);
  admin = await adminClient();
  pki = await makePki();
  entra = new EntraServer(pki);
  await entra.start();
  kv = new KeyVaultServer(pki, entra);
  await kv.listener.start();
  onCleanup(async () => {
    await kv.listener.stop();
    await entra.stop();
  });
  entra.registerSecret('sp-client', 'sp-secret');
  v1 = kv.setSecret('db-creds', JSON.stringify({ user: 'app', password: 'old-password' }), { env: 'dev' });
  kv.setSecret('db-creds', JSON.stringify({ user: 'app', password: PLANTED, nested: { port: 5432 } }), { env: 'prod', team: 'payments' });
  kv.setSecret('app-api-token', 'token-1', { team: 'payments' });
  kv.setSecret('app-other', 'other-1', { team: 'search' });
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  jwk = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  kv.setKey('signing', { kty: 'RSA', key_ops: ['sign', 'verify'], n: jwk.n, e: jwk.e }, { purpose: 'jwt' });
  certDer = Buffer.from(new X509Certificate(pki.clientCertPem).raw);
  kv.setCertificate('tls', certDer, { cn: 'tessera-sp' });
  await installTessera(admin);
  op = await startOperator(admin, env, [`--controller-class=${controllerClass}`, '--concurrent=4'], {
    NODE_EXTRA_CA_CERTS: pki.caFile,
    // The test's Key Vault answers for 127.0.0.1, not *.vault.azure.net.
    TESSERA_AZURE_VAULT_HOSTS: '127.0.0.1',
    // ManagedIdentity's IMDS endpoint, as AAD Pod Identity's NMI would serve it.
    AZURE_POD_IDENTITY_AUTHORITY_HOST: entra.imdsUrl,
  });
});

describe('reading Key Vault', () => {
  let ns: string;
  before(async () => {
    ns = await namespaceWithStore('az-read');
  });

  it('reads a secret, a version, a property, its tags, a key and a certificate by prefix', async () => {
    await admin.create(externalSecrets, externalSecret(ns, 'app', {
      refreshInterval: '1h',
      secretStoreRef: { name: 'azure' },
      data: [
        { secretKey: 'password', remoteRef: { key: 'db-creds', property: 'password' } },
        { secretKey: 'port', remoteRef: { key: 'secret/db-creds', property: 'nested.port' } },
        { secretKey: 'old', remoteRef: { key: 'db-creds', version: v1, property: 'password' } },
        { secretKey: 'env', remoteRef: { key: 'db-creds', metadataPolicy: 'Fetch', property: 'env' } },
        { secretKey: 'tags', remoteRef: { key: 'secret/db-creds', metadataPolicy: 'Fetch' } },
        { secretKey: 'jwk', remoteRef: { key: 'key/signing' } },
        { secretKey: 'kty', remoteRef: { key: 'key/signing', property: 'kty' } },
        { secretKey: 'key-purpose', remoteRef: { key: 'key/signing', metadataPolicy: 'Fetch', property: 'purpose' } },
        { secretKey: 'tls.der', remoteRef: { key: 'cert/tls' } },
      ],
    }));
    const ready = await waitCondition(ns, 'app', 'True');
    assert.equal(ready.reason, 'SecretSynced');
    const secret = await admin.get<Secret>(core.secrets, ns, 'app');
    const d = decodeSecret(secret);
    assert.equal(d.password, PLANTED);
    assert.equal(d.port, '5432');
    assert.equal(d.old, 'old-password', 'the version asked for, not the latest');
    assert.equal(d.env, 'prod');
    const tags = JSON.parse(d.tags!) as Record<string, string>;
    assert.equal(tags.env, 'prod');
    assert.equal(tags.team, 'payments');
    assert.match(tags['attribute.created']!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, "ESO's attribute.* timestamps beside the tags");
    const key = JSON.parse(d.jwk!) as Record<string, unknown>;
    assert.deepEqual(Object.keys(key), ['kid', 'kty', 'key_ops', 'n', 'e'], "Key Vault's JWK field names, in ESO's order");
    assert.equal(key.n, jwk.n);
    assert.equal(key.e, jwk.e);
    assert.equal(d.kty, 'RSA');
    assert.equal(d['key-purpose'], 'jwt');
    assert.ok(Buffer.from(secret.data!['tls.der']!, 'base64').equals(certDer), "the certificate's DER bytes (Key Vault's cer)");
  });

  it('finds secrets by name regexp and by tags, and extracts a JSON secret', async () => {
    await admin.create(externalSecrets, externalSecret(ns, 'found', {
      refreshInterval: '1h',
      secretStoreRef: { name: 'azure' },
      dataFrom: [
        { find: { name: { regexp: '^app-' } } },
        { find: { tags: { team: 'payments' } }, rewrite: [{ regexp: { source: '^(.*)$', target: 'team-$1' } }] },
        { extract: { key: 'db-creds' } },
      ],
    }));
    await waitCondition(ns, 'found', 'True');
    assert.deepEqual(decodeSecret(await admin.get<Secret>(core.secrets, ns, 'found')), {
      'app-api-token': 'token-1',
      'app-other': 'other-1',
      'team-app-api-token': 'token-1',
      'team-db-creds': JSON.stringify({ user: 'app', password: PLANTED, nested: { port: 5432 } }),
      user: 'app',
      password: PLANTED,
      nested: '{"port":5432}',
    });
  });

  it('reports a missing object, an unknown prefix and find.path clearly, and writes nothing', async () => {
    await admin.create(externalSecrets, externalSecret(ns, 'missing', { secretStoreRef: { name: 'azure' }, data: [{ secretKey: 'a', remoteRef: { key: 'key/no-such-key' } }] }));
    await admin.create(externalSecrets, externalSecret(ns, 'prefix', { secretStoreRef: { name: 'azure' }, data: [{ secretKey: 'a', remoteRef: { key: 'blob/x' } }] }));
    await admin.create(externalSecrets, externalSecret(ns, 'path', { secretStoreRef: { name: 'azure' }, dataFrom: [{ find: { path: 'app', name: { regexp: '.' } } }] }));
    await waitCondition(ns, 'missing', 'False', /does not exist at provider/);
    await waitCondition(ns, 'prefix', 'False', /unknown Azure Key Vault object type "blob"/);
    await waitCondition(ns, 'path', 'False', /find\.path: not supported by Azure Key Vault/);
    for (const n of ['missing', 'prefix', 'path']) assert.equal(await admin.tryGet(core.secrets, ns, n), undefined);
  });
});

describe('not found, with each deletionPolicy', () => {
  it('Delete removes the Secret, Retain keeps it, Merge removes only its own keys', async () => {
    const ns = await namespaceWithStore('az-del');
    kv.setSecret(`${ns}-del`, 'v-del');
    kv.setSecret(`${ns}-ret`, 'v-ret');
    kv.setSecret(`${ns}-merge`, 'v-merge');
    await admin.create(core.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'merged', namespace: ns }, stringData: { keep: 'mine' } } as Secret);
    const es = (name: string, target: Record<string, unknown>, key: string) =>
      externalSecret(ns, name, { refreshInterval: '1s', secretStoreRef: { name: 'azure' }, target, data: [{ secretKey: 'v', remoteRef: { key } }] });
    await admin.create(externalSecrets, es('del', { deletionPolicy: 'Delete' }, `${ns}-del`));
    await admin.create(externalSecrets, es('ret', { deletionPolicy: 'Retain' }, `${ns}-ret`));
    await admin.create(externalSecrets, es('merge', { name: 'merged', creationPolicy: 'Merge', deletionPolicy: 'Merge' }, `${ns}-merge`));
    for (const n of ['del', 'ret', 'merge']) await waitCondition(ns, n, 'True');
    assert.deepEqual(decodeSecret(await admin.get<Secret>(core.secrets, ns, 'merged')), { keep: 'mine', v: 'v-merge' });
    for (const n of ['del', 'ret', 'merge']) kv.deleteSecret(`${ns}-${n}`);
    await waitFor('Secret deleted (Delete)', async () => !(await admin.tryGet(core.secrets, ns, 'del')));
    await waitFor('reason SecretDeleted', async () => (await waitCondition(ns, 'del', 'True')).reason === 'SecretDeleted');
    await waitFor('own key removed (Merge)', async () => !('v' in decodeSecret(await admin.get<Secret>(core.secrets, ns, 'merged'))));
    assert.deepEqual(decodeSecret(await admin.get<Secret>(core.secrets, ns, 'merged')), { keep: 'mine' });
    await waitCondition(ns, 'ret', 'False', /does not exist at provider/);
    assert.deepEqual(decodeSecret(await admin.get<Secret>(core.secrets, ns, 'ret')), { v: 'v-ret' }, 'Retain keeps the Secret');
  });
});

describe('credentials', () => {
  it('wrong client secret: a clear status on the store and the ExternalSecret, nothing written', async () => {
    const ns = await namespaceWithStore('az-badcred', 'not-the-secret');
    await admin.create(externalSecrets, externalSecret(ns, 'x', { secretStoreRef: { name: 'azure' }, data: [{ secretKey: 'a', remoteRef: { key: 'db-creds', property: 'user' } }] }));
    const c = await waitCondition(ns, 'x', 'False', /Entra ID token request credentials rejected \(invalid_client: AADSTS7000215/);
    assert.equal(c.reason, 'SecretSyncedError');
    assert.equal(await admin.tryGet(core.secrets, ns, 'x'), undefined);
    await waitFor('store Ready=False naming the rejection', async () => {
      const s = await admin.get<KubeObject & { status?: { conditions?: Array<{ type: string; status: string; message?: string }> } }>(secretStores, ns, 'azure');
      const r = s.status?.conditions?.find((x) => x.type === 'Ready');
      return r?.status === 'False' && /invalid_client/.test(r.message ?? '');
    });
  });

  it('a client certificate (PEM with its key) signs the client assertion', async () => {
    const ns = await freshNamespace(admin, 'az-cert');
    entra.registerCertificate('sp-cert-client', pki.clientCertPem);
    await admin.create(core.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'azure-sp', namespace: ns }, stringData: { 'client-id': 'sp-cert-client', 'tls.pem': pki.clientPem } } as Secret);
    await createStore(ns, 'azure', azurekv({ authSecretRef: { clientId: { name: 'azure-sp', key: 'client-id' }, clientCertificate: { name: 'azure-sp', key: 'tls.pem' } } }));
    await admin.create(externalSecrets, externalSecret(ns, 'x', { secretStoreRef: { name: 'azure' }, data: [{ secretKey: 'user', remoteRef: { key: 'db-creds', property: 'user' } }] }));
    await waitCondition(ns, 'x', 'True');
    assert.deepEqual(decodeSecret(await admin.get<Secret>(core.secrets, ns, 'x')), { user: 'app' });
    assert.ok(entra.tokenRequests.some((r) => r.clientId === 'sp-cert-client' && r.ok));
  });

  it('WorkloadIdentity: a TokenRequest token of the ServiceAccount is the federated assertion', async () => {
    const ns = await freshNamespace(admin, 'az-wi');
    const saPub = readFileSync(path.join(stateDir, 'pki', 'sa.pub'), 'utf8');
    entra.registerFederated('wi-client', saPub, `system:serviceaccount:${ns}:azure-wi`);
    await admin.create(core.serviceAccounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'azure-wi', namespace: ns, annotations: { 'azure.workload.identity/client-id': 'wi-client' } } } as KubeObject);
    await createStore(ns, 'azure', azurekv({ authType: 'WorkloadIdentity', serviceAccountRef: { name: 'azure-wi' } }));
    await admin.create(externalSecrets, externalSecret(ns, 'x', { secretStoreRef: { name: 'azure' }, data: [{ secretKey: 'user', remoteRef: { key: 'db-creds', property: 'user' } }] }));
    await waitCondition(ns, 'x', 'True');
    assert.deepEqual(decodeSecret(await admin.get<Secret>(core.secrets, ns, 'x')), { user: 'app' });
    assert.ok(entra.tokenRequests.some((r) => r.clientId === 'wi-client' && r.ok));
  });

  it("ManagedIdentity: the pod's identity from IMDS, chosen by identityId", async () => {
    const ns = await freshNamespace(admin, 'az-mi');
    entra.registerManagedIdentity('mi-client');
    await createStore(ns, 'azure', { vaultUrl: kv.vaultUrl, authType: 'ManagedIdentity', identityId: 'mi-client' });
    await admin.create(externalSecrets, externalSecret(ns, 'x', { secretStoreRef: { name: 'azure' }, data: [{ secretKey: 'user', remoteRef: { key: 'db-creds', property: 'user' } }] }));
    await waitCondition(ns, 'x', 'True');
    assert.deepEqual(decodeSecret(await admin.get<Secret>(core.secrets, ns, 'x')), { user: 'app' });
    assert.ok(entra.tokenRequests.some((r) => r.clientId === 'mi-client' && r.grant === 'managed_identity' && r.ok));
  });
});

describe('coalescing and metrics', () => {
  it('one Key Vault read per distinct secret across several ExternalSecrets, counted in the provider metric', async () => {
    const ns = await namespaceWithStore('az-coalesce');
    const names = ['shared-a', 'shared-b'].map((n) => `${ns}-${n}`);
    for (const n of names) kv.setSecret(n, JSON.stringify({ user: n, password: 'p' }));
    const before = await op.metrics();
    for (let i = 0; i < 6; i++) {
      await admin.create(externalSecrets, externalSecret(ns, `es-${i}`, {
        refreshInterval: '1h',
        secretStoreRef: { name: 'azure' },
        data: [{ secretKey: 'user', remoteRef: { key: names[i % 2], property: 'user' } }, { secretKey: 'password', remoteRef: { key: names[i % 2], property: 'password' } }],
      }));
    }
    for (let i = 0; i < 6; i++) await waitCondition(ns, `es-${i}`, 'True');
    await sleep(1000);
    for (const n of names) assert.equal(kv.requests.filter((r) => r === `GET /secrets/${n}`).length, 1, `one GetSecret of ${n} at the vault`);
    const after = await op.metrics();
    const calls = (m: string, status: string) => metricSum(m, 'externalsecret_provider_api_calls_count', { provider: 'Azure/KeyVault', call: 'GetSecret', status, store: `SecretStore/${ns}/azure` });
    assert.equal(calls(after, 'success') - calls(before, 'success'), 2, 'two successful GetSecret calls counted for this store');
    assert.ok(metricSum(after, 'externalsecret_provider_api_calls_count', { provider: 'Azure/KeyVault', call: 'GetSecret', status: 'error' }) >= 1, 'failed calls are counted too (the not-found reads above)');
  });
});

describe('a store that turns Ready while a read is in flight', () => {
  it('the read completes and is not sent again (the old client is retired, not closed under it)', async () => {
    const ns = await freshNamespace(admin, 'az-inflight');
    const key = `${ns}-held`;
    kv.setSecret(key, 'held-value');
    await admin.create(core.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'azure-sp', namespace: ns }, stringData: { 'client-id': 'sp-client', 'client-secret': 'sp-secret' } } as Secret);
    // The store's validation (one listing page) waits until the ExternalSecret's read has reached
    // the vault; that read waits until the store is Ready. So the store turns Ready, and its
    // clients are evicted, while the read is in flight.
    let readArrived!: () => void;
    const arrived = new Promise<void>((r) => (readArrived = r));
    let releaseRead!: () => void;
    const released = new Promise<void>((r) => (releaseRead = r));
    kv.hold = (request) => {
      if (request === 'GET /secrets') return arrived;
      if (request === `GET /secrets/${key}`) {
        readArrived();
        return released;
      }
      return undefined;
    };
    try {
      await createStore(ns, 'azure', azurekv({ authSecretRef: { clientId: { name: 'azure-sp', key: 'client-id' }, clientSecret: { name: 'azure-sp', key: 'client-secret' } } }));
      await admin.create(externalSecrets, externalSecret(ns, 'held', { refreshInterval: '1h', secretStoreRef: { name: 'azure' }, data: [{ secretKey: 'v', remoteRef: { key } }] }));
      await arrived;
      await waitFor('store Ready', async () => {
        const store = await admin.get<KubeObject & { status?: { conditions?: Array<{ type: string; status: string }> } }>(secretStores, ns, 'azure');
        return store.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
      });
      // The controller's informer has seen the store turn Ready (and evicted its clients).
      await sleep(1000);
    } finally {
      releaseRead();
      kv.hold = undefined;
    }
    await waitCondition(ns, 'held', 'True');
    assert.deepEqual(decodeSecret(await admin.get<Secret>(core.secrets, ns, 'held')), { v: 'held-value' });
    await sleep(1000);
    assert.equal(kv.requests.filter((r) => r === `GET /secrets/${key}`).length, 1, 'one GetSecret at the vault');
  });
});

describe('Key Vault down', () => {
  it('keeps the Secret exactly as it was, says why, and recovers', async () => {
    const ns = await namespaceWithStore('az-down');
    kv.setSecret(`${ns}-outage`, 'before-outage');
    await admin.create(externalSecrets, externalSecret(ns, 'outage', { refreshInterval: '1s', secretStoreRef: { name: 'azure' }, data: [{ secretKey: 'v', remoteRef: { key: `${ns}-outage` } }] }));
    await waitCondition(ns, 'outage', 'True');
    const before = await admin.get<Secret>(core.secrets, ns, 'outage');
    // Only this file's Key Vault server goes down; the shared peers are untouched.
    await kv.listener.stop();
    try {
      const c = await waitCondition(ns, 'outage', 'False', /could not get secret data from provider/, 60_000);
      assert.equal(c.reason, 'SecretSyncedError');
      assert.equal((await admin.get<Secret>(core.secrets, ns, 'outage')).metadata?.resourceVersion, before.metadata?.resourceVersion, 'the Secret is untouched during the outage');
    } finally {
      await kv.listener.start();
    }
    kv.setSecret(`${ns}-outage`, 'after-outage');
    await waitFor('recovery', async () => decodeSecret(await admin.get<Secret>(core.secrets, ns, 'outage')).v === 'after-outage', 120_000);
    assert.equal(op.child.exitCode, null, 'the controller survived the outage');
  });
});

describe('secret values never leak', () => {
  it('the planted value appears in no log line, event or status', async () => {
    const ns = await namespaceWithStore('az-leak');
    kv.setSecret(`${ns}-leak`, PLANTED);
    await admin.create(externalSecrets, externalSecret(ns, 'prop', { secretStoreRef: { name: 'azure' }, data: [{ secretKey: 'a', remoteRef: { key: `${ns}-leak`, property: 'x' } }] }));
    await admin.create(externalSecrets, externalSecret(ns, 'ok', { secretStoreRef: { name: 'azure' }, data: [{ secretKey: 'a', remoteRef: { key: `${ns}-leak` } }] }));
    await waitCondition(ns, 'prop', 'False');
    await waitCondition(ns, 'ok', 'True');
    const haystacks: string[] = [...op.logs, await op.metrics()];
    for (const e of (await admin.list<CoreEvent>(core.events, ns)).items) haystacks.push(JSON.stringify(e));
    for (const es of (await admin.list<KubeObject & { status?: unknown }>(externalSecrets, ns)).items) haystacks.push(JSON.stringify(es.status ?? {}));
    const leaks = haystacks.filter((h) => h.includes(PLANTED) || h.includes(Buffer.from(PLANTED).toString('base64')));
    assert.deepEqual(leaks, []);
  });
});
