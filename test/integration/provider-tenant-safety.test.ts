// Tenant-written provider settings against the operator process (its own ServiceAccount, the
// shipped RBAC): a kubeconfig naming a file of the controller is refused by field and nothing is
// sent; a hostile `server` (endless body, one byte every 2 s) fails only its own ExternalSecrets
// within the deadline while the process stays healthy and another tenant syncs; and with
// --namespaced-store-controller-identity=deny a SecretStore cannot act as the controller while a
// ClusterSecretStore still may.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { KubeClient } from '../../src/kube/client.ts';
import { core, type KubeObject, type Secret } from '../../src/kube/types.ts';
import { clusterSecretStores, externalSecrets, secretStores } from '../../src/controllers/resources.ts';
import { stateDir, type PeersEnv } from '../peers/index.ts';
import { adminClient, decodeSecret, freshNamespace, onCleanup, peers, sleep, uniqueName, waitFor, waitReady } from './helpers.ts';
import { installTessera, startOperator, type Operator } from './operator.ts';

const DEADLINE_S = 3;
const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

let env: PeersEnv;
let admin: KubeClient;
let op: Operator;

/** Requests that reached a server we own: any one means a refused store was used after all. */
const recorded: Array<{ url: string; authorization: string | undefined }> = [];
let recorder: http.Server;
let endless: http.Server;
let drip: http.Server;
const listen = async (s: http.Server): Promise<string> => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  onCleanup(() => {
    s.closeAllConnections();
    s.close();
  });
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
};

before(async () => {
  env = await peers(['etcd', 'kube-apiserver', 'kube-controller-manager', 'moto']);
  admin = await adminClient();
  await installTessera(admin);
  recorder = http.createServer((req, res) => {
    recorded.push({ url: req.url ?? '', authorization: req.headers.authorization });
    res.writeHead(401).end();
  });
  // Answers 200 and then writes without end, as fast as the client reads.
  endless = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(256 * 1024, 'a');
    let open = true;
    res.on('close', () => (open = false));
    const pump = (): void => {
      while (open && res.write(chunk));
      if (open) res.once('drain', pump);
    };
    pump();
  });
  // Answers 200 and then one byte every 2 s: an idle timeout never fires.
  drip = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{');
    const t = setInterval(() => res.write(' '), 2000);
    res.on('close', () => clearInterval(t));
  });
  op = await startOperator(admin, env, [`--provider-timeout=${DEADLINE_S}s`, '--namespaced-store-controller-identity=deny']);
});

async function createStore(ns: string, name: string, provider: Record<string, unknown>): Promise<void> {
  await admin.create(secretStores, { apiVersion: 'external-secrets.io/v1', kind: 'SecretStore', metadata: { name, namespace: ns }, spec: { provider } } as KubeObject);
}

async function createES(ns: string, name: string, store: string, key: string, kind = 'SecretStore', property?: string): Promise<void> {
  await admin.create(externalSecrets, {
    apiVersion: 'external-secrets.io/v1',
    kind: 'ExternalSecret',
    metadata: { name, namespace: ns },
    spec: { refreshInterval: '1h', secretStoreRef: { name: store, kind }, data: [{ secretKey: 'value', remoteRef: { key, ...(property ? { property } : {}) } }] },
  } as KubeObject);
}

type Cond = { type: string; status: string; reason?: string; message?: string };
async function storeReady(ns: string | undefined, name: string, match: RegExp, cluster = false): Promise<Cond> {
  return waitFor(`store ${name} Ready=False ${match}`, async () => {
    const s = await admin.tryGet<KubeObject & { status?: { conditions?: Cond[] } }>(cluster ? clusterSecretStores : secretStores, ns, name);
    const c = s?.status?.conditions?.find((x) => x.type === 'Ready');
    return c && c.status === 'False' && match.test(c.message ?? '') ? c : undefined;
  });
}

/** Polls /healthz every 200 ms until stopped; records the slowest answer. */
function watchHealth(): { stop: () => Promise<{ slowestMs: number; failures: number; polls: number }> } {
  let running = true;
  let slowestMs = 0;
  let failures = 0;
  let polls = 0;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      try {
        const r = await fetch(`${op.healthUrl}/healthz`, { signal: AbortSignal.timeout(1000) });
        if (r.status !== 200) failures++;
      } catch {
        failures++;
      }
      polls++;
      slowestMs = Math.max(slowestMs, performance.now() - started);
      await sleep(200);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { slowestMs, failures, polls };
    },
  };
}

function kubeconfigWith(server: string, user: Record<string, unknown>, cluster: Record<string, unknown> = {}): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'current-context: c',
    'clusters:',
    `- name: k`,
    `  cluster: ${JSON.stringify({ server, ...cluster })}`,
    'users:',
    `- name: u`,
    `  user: ${JSON.stringify(user)}`,
    'contexts:',
    '- name: c',
    '  context: { cluster: k, user: u }',
    '',
  ].join('\n');
}

describe('a tenant kubeconfig may not name a file of the controller', () => {
  it('token-file (the in-cluster token, the operator kubeconfig), client-key and certificate-authority are refused by field and nothing is sent', async () => {
    const ns = await freshNamespace(admin, 'kc-tenant');
    const server = await listen(recorder);
    const operatorKubeconfigPath = path.join(stateDir, 'tessera-operator.kubeconfig');
    const cases: Array<{ name: string; kubeconfig: string; field: string }> = [
      { name: 'sa-token', kubeconfig: kubeconfigWith(server, { 'token-file': IN_CLUSTER_TOKEN }), field: 'users[0].user.token-file' },
      { name: 'operator-kubeconfig', kubeconfig: kubeconfigWith(server, { 'token-file': operatorKubeconfigPath }), field: 'users[0].user.token-file' },
      { name: 'client-key', kubeconfig: kubeconfigWith(server, { 'client-certificate-data': Buffer.from('-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n').toString('base64'), 'client-key': operatorKubeconfigPath }), field: 'users[0].user.client-key' },
      { name: 'ca-file', kubeconfig: kubeconfigWith(server, { token: 'inline' }, { 'certificate-authority': operatorKubeconfigPath }), field: 'clusters[0].cluster.certificate-authority' },
    ];
    for (const c of cases) {
      await admin.create(core.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: `kc-${c.name}`, namespace: ns }, stringData: { config: c.kubeconfig } } as Secret);
      await createStore(ns, c.name, { kubernetes: { authRef: { name: `kc-${c.name}`, key: 'config' }, remoteNamespace: 'default' } });
      await createES(ns, c.name, c.name, 'anything');
    }
    for (const c of cases) {
      const field = c.field.replace(/[[\].]/g, (ch) => `\\${ch}`);
      const s = await storeReady(ns, c.name, new RegExp(`spec\\.provider\\.kubernetes\\.authRef: kubeconfig ${field}: names a file on the controller's filesystem`));
      assert.equal(s.reason, 'InvalidProviderConfig');
      await waitReady(admin, ns, c.name, 'False', new RegExp(`kubeconfig ${field}: names a file`));
      assert.equal(await admin.tryGet(core.secrets, ns, c.name), undefined);
    }
    // Give a wrongly accepted store every chance to call out.
    await sleep(1000);
    assert.deepEqual(recorded, [], 'no request may reach the server a refused kubeconfig names');
  });
});

describe('a hostile server holds only its own ExternalSecrets, for at most the deadline', () => {
  it('Vault and Kubernetes stores whose server sends an endless body or drips a byte every 2 s fail clearly; /healthz answers and another tenant syncs', async () => {
    const hostile = await freshNamespace(admin, 'hostile');
    const other = await freshNamespace(admin, 'other-tenant');
    const endlessUrl = await listen(endless);
    const dripUrl = await listen(drip);
    await admin.create(core.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: hostile }, stringData: { token: 'tenant-token' } } as Secret);
    const vault = (server: string) => ({ vault: { server, path: 'secret', version: 'v2', auth: { tokenSecretRef: { name: 'creds', key: 'token' } } } });
    const kube = (url: string) => ({ kubernetes: { server: { url }, auth: { token: { bearerToken: { name: 'creds', key: 'token' } } }, remoteNamespace: 'default' } });
    const health = watchHealth();
    const started = performance.now();
    await createStore(hostile, 'vault-endless', vault(endlessUrl));
    await createStore(hostile, 'vault-drip', vault(dripUrl));
    await createStore(hostile, 'kube-endless', kube(endlessUrl));
    await createStore(hostile, 'kube-drip', kube(dripUrl));
    for (const s of ['vault-endless', 'vault-drip', 'kube-endless', 'kube-drip']) {
      for (let i = 0; i < 3; i++) await createES(hostile, `${s}-${i}`, s, `key-${i}`);
    }
    // The other tenant starts while the attack runs.
    await createStore(other, 'fake', { fake: { data: [{ key: 'db', value: 'other-tenant-value' }] } });
    await createES(other, 'app', 'fake', 'db');
    await waitReady(admin, other, 'app', 'True', /./, 15_000);
    const otherReadyMs = performance.now() - started;
    assert.deepEqual(decodeSecret(await admin.get<Secret>(core.secrets, other, 'app')), { value: 'other-tenant-value' });

    const margin = 12_000;
    const results: Record<string, number> = {};
    for (const s of ['vault-endless', 'kube-endless']) {
      for (let i = 0; i < 3; i++) {
        await waitReady(admin, hostile, `${s}-${i}`, 'False', /exceeds the response size cap of 16 MiB/, DEADLINE_S * 1000 + margin);
        results[`${s}-${i}`] = Math.round(performance.now() - started);
      }
    }
    for (const s of ['vault-drip', 'kube-drip']) {
      for (let i = 0; i < 3; i++) {
        await waitReady(admin, hostile, `${s}-${i}`, 'False', new RegExp(`deadline of ${DEADLINE_S}s exceeded`), DEADLINE_S * 1000 + margin);
        results[`${s}-${i}`] = Math.round(performance.now() - started);
      }
    }
    // The stores report it too (their validation call meets the same server).
    await storeReady(hostile, 'vault-drip', new RegExp(`deadline of ${DEADLINE_S}s exceeded`));
    await storeReady(hostile, 'kube-endless', /response size cap/);
    // Keep the attack going a little longer while /healthz is watched.
    await sleep(3000);
    const h = await health.stop();
    console.log(`[tenant-safety] other tenant Ready after ${Math.round(otherReadyMs)} ms; hostile statuses at ${JSON.stringify(results)}; /healthz slowest ${Math.round(h.slowestMs)} ms over ${h.polls} polls`);
    assert.equal(h.failures, 0, '/healthz must answer 200 within 1 s throughout');
    assert.ok(h.slowestMs < 1000, `slowest /healthz ${h.slowestMs} ms`);
    assert.equal(op.child.exitCode, null, 'the controller process survives');
  });
});

describe('--namespaced-store-controller-identity=deny', () => {
  it("refuses SecretStores that would act as the controller, while a ClusterSecretStore may", async () => {
    const ns = await freshNamespace(admin, 'ident');
    const key = uniqueName('ident/db');
    const sm = new SecretsManagerClient({ region: env.AWS_REGION, endpoint: env.AWS_ENDPOINT_URL, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY } });
    onCleanup(() => sm.destroy());
    await sm.send(new CreateSecretCommand({ Name: key, SecretString: 'platform-value' })).catch(() => sm.send(new PutSecretValueCommand({ SecretId: key, SecretString: 'platform-value' })));

    await createStore(ns, 'aws-ambient', { aws: { service: 'SecretsManager', region: env.AWS_REGION } });
    await createStore(ns, 'vault-ambient', { vault: { server: await listen(http.createServer((req, res) => {
      recorded.push({ url: req.url ?? '', authorization: req.headers['x-vault-token'] as string | undefined });
      res.writeHead(500).end();
    })), path: 'secret', version: 'v2', auth: { kubernetes: { role: 'tenant' } } } });
    const cssName = uniqueName('platform-aws');
    await admin.create(clusterSecretStores, { apiVersion: 'external-secrets.io/v1', kind: 'ClusterSecretStore', metadata: { name: cssName }, spec: { provider: { aws: { service: 'SecretsManager', region: env.AWS_REGION } } } } as KubeObject);
    onCleanup(() => admin.delete(clusterSecretStores, undefined, cssName).catch(() => undefined));
    await createES(ns, 'aws-ambient', 'aws-ambient', key);
    await createES(ns, 'vault-ambient', 'vault-ambient', 'db');
    await createES(ns, 'platform', cssName, key, 'ClusterSecretStore');

    const awsStore = await storeReady(ns, 'aws-ambient', /^spec\.provider\.aws\.auth: a SecretStore may not use the controller's own AWS credentials.*--namespaced-store-controller-identity=deny/);
    assert.equal(awsStore.reason, 'InvalidProviderConfig');
    const vaultStore = await storeReady(ns, 'vault-ambient', /^spec\.provider\.vault\.auth\.kubernetes: a SecretStore may not use the controller's own service-account token/);
    assert.equal(vaultStore.reason, 'InvalidProviderConfig');
    await waitReady(admin, ns, 'aws-ambient', 'False', /spec\.provider\.aws\.auth: a SecretStore may not use the controller's own AWS credentials/);
    await waitReady(admin, ns, 'vault-ambient', 'False', /spec\.provider\.vault\.auth\.kubernetes: a SecretStore may not use the controller's own service-account token/);
    assert.equal(await admin.tryGet(core.secrets, ns, 'aws-ambient'), undefined);
    await waitReady(admin, ns, 'platform', 'True');
    assert.deepEqual(decodeSecret(await admin.get<Secret>(core.secrets, ns, 'platform')), { value: 'platform-value' });
    assert.ok(!recorded.some((r) => r.url.includes('auth/kubernetes/login')), "the controller's token must not be sent");
  });
});
