// The Kubernetes provider against the local kube-apiserver (TLS, RBAC, TokenRequest). A
// ServiceAccount in the store's namespace is allowed, by a Role and RoleBinding, to read Secrets
// of exactly one remote namespace; reading any other namespace must fail with AccessDenied.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ensurePeers, stateDir } from '../../peers/index.ts';
import type { PeersEnv } from '../../peers/index.ts';
import { waitFor } from '../helpers.ts';
import { KubeClient } from '../../../src/kube/client.ts';
import { core } from '../../../src/kube/types.ts';
import { kubernetesProvider, newKubernetesClient } from '../../../src/providers/kubernetes/index.ts';
import type { KubernetesProvider, KubernetesSecretsClient } from '../../../src/providers/kubernetes/index.ts';
import { ProviderError, isNotFound } from '../../../src/providers/provider.ts';
import type { ProviderClient, RemoteValue } from '../../../src/providers/provider.ts';
import { getProvider } from '../../../src/providers/registry.ts';
import { applyObject, callRecorder, kubeProviderContext, putSecret, putServiceAccount, rbac } from './context.ts';
import type { CallRecorder } from './context.ts';

const run = `k${Date.now().toString(36)}${Math.random().toString(36).slice(2, 5)}`;
let env: PeersEnv;
let kube: KubeClient;
const storeNs = `${run}-store`;
const remoteNs = `${run}-remote`;
const otherNs = `${run}-other`;
const clients: ProviderClient[] = [];
let caB64: string;

const text = (v: RemoteValue | undefined): string => {
  if (!v) throw new Error('no value');
  return Buffer.from(v.value).toString('utf8');
};

function ctxFor(rec: CallRecorder = callRecorder()) {
  return kubeProviderContext(kube, storeNs, rec);
}

async function store(config: KubernetesProvider, ctx = ctxFor()): Promise<KubernetesSecretsClient> {
  assert.deepEqual(kubernetesProvider.validateConfig(config), []);
  const c = await newKubernetesClient(config, ctx);
  clients.push(c);
  return c;
}

const server = () => ({ url: env.KUBE_APISERVER_URL, caBundle: caB64 });
const asSa = (name: string, remoteNamespace = remoteNs): KubernetesProvider => ({ server: server(), auth: { serviceAccount: { name } }, remoteNamespace });

async function grant(sa: string, verbs: string[]): Promise<void> {
  await applyObject(kube, rbac.roles, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: `${sa}-secrets`, namespace: remoteNs },
    rules: [{ apiGroups: [''], resources: ['secrets'], verbs }],
  } as never);
  await applyObject(kube, rbac.roleBindings, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: `${sa}-secrets`, namespace: remoteNs },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${sa}-secrets` },
    subjects: [{ kind: 'ServiceAccount', name: sa, namespace: storeNs }],
  } as never);
}

before(async () => {
  env = { ...(await ensurePeers(['etcd', 'kube-apiserver', 'kube-controller-manager'])) };
  caB64 = readFileSync(path.join(stateDir, 'pki', 'ca.crt')).toString('base64');
  kube = await KubeClient.create({ kubeconfig: env.KUBECONFIG, qps: 500, burst: 1000, fieldManager: 'tessera-test' });
  for (const name of [storeNs, remoteNs, otherNs]) await kube.create(core.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  for (const sa of ['reader', 'getonly', 'nobody']) await putServiceAccount(kube, storeNs, sa);
  await grant('reader', ['get', 'list']);
  await grant('getonly', ['get']);
  await putSecret(kube, remoteNs, 'db', { user: 'app', password: 's3cr3t', html: 'x<y&z' }, { team: 'payments', tier: 'gold' }, { owner: 'alice' });
  await putSecret(kube, remoteNs, 'db-replica', { user: 'replica' }, { team: 'payments' });
  await putSecret(kube, remoteNs, 'api', { token: 'abc' }, { team: 'search' });
  await putSecret(kube, otherNs, 'db', { user: 'other' });
  // RBAC reaches the authorizer a moment after it is written.
  const probe = await newKubernetesClient(asSa('reader'), ctxFor());
  const probeGet = await newKubernetesClient(asSa('getonly'), ctxFor());
  try {
    await waitFor('reader RBAC in effect', async () => (await probe.can('list')) && (await probeGet.can('get')), 15_000, 100);
  } finally {
    await probe.close();
    await probeGet.close();
  }
});

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  if (kube) {
    for (const name of [storeNs, remoteNs, otherNs]) await kube.delete(core.namespaces, undefined, name).catch(() => undefined);
    kube.close();
  }
});

describe('serviceAccount auth, RBAC on one remote namespace', () => {
  test('getValue: the Secret data as a JSON object of strings (sorted, not HTML-escaped, as ESO)', async () => {
    const rec = callRecorder();
    const ctx = ctxFor(rec);
    const c = await store(asSa('reader'), ctx);
    assert.equal(text(await c.getValue({ key: 'db' })), '{"html":"x<y&z","password":"s3cr3t","user":"app"}');
    assert.equal(text(await c.getValue({ key: 'db', metadataPolicy: 'Fetch' })), '{"annotations":{"owner":"alice"},"labels":{"team":"payments","tier":"gold"}}');
    await c.getValue({ key: 'api' });
    assert.equal(ctx.log.tokenRequests.length, 1, 'the ServiceAccount token is reused');
    assert.deepEqual(rec.calls, ['GetSecret', 'GetSecret', 'GetSecret']);
    assert.deepEqual(rec.details[0]!.detail, { provider: 'Kubernetes', status: 'success' });
  });

  test('concurrent reads of one Secret are one GET', async () => {
    const rec = callRecorder();
    const c = await store(asSa('reader'), ctxFor(rec));
    const values = await Promise.all(Array.from({ length: 10 }, () => c.getValue({ key: 'db' })));
    assert.ok(values.every((v) => text(v) === text(values[0])));
    assert.equal(rec.count('GetSecret'), 1);
    assert.equal(c.coalescedReads, 9);
    console.log(`[kubernetes] 10 concurrent reads of one Secret: GetSecret=${rec.count('GetSecret')}, coalesced=${c.coalescedReads}`);
  });

  test('a missing Secret is NotFound', async () => {
    const c = await store(asSa('reader'));
    await assert.rejects(c.getValue({ key: 'nope' }), (e: unknown) => {
      assert.ok(isNotFound(e));
      assert.match((e as Error).message, new RegExp(`GetSecret secret "${remoteNs}/nope": not found \\(HTTP 404\\)`));
      return true;
    });
  });

  test('find by tags (label selector) and by name regexp, one LIST each', async () => {
    const rec = callRecorder();
    const c = await store(asSa('reader'), ctxFor(rec));
    const byTags = await c.findValues({ tags: { team: 'payments' } });
    assert.deepEqual([...byTags.keys()].sort(), ['db', 'db-replica']);
    assert.equal(text(byTags.get('db-replica')), '{"user":"replica"}');
    const byName = await c.findValues({ name: { regexp: '(?i)^API$' } });
    assert.deepEqual([...byName.keys()], ['api']);
    assert.deepEqual(rec.calls, ['ListSecrets', 'ListSecrets']);
    const byPosixClass = await c.findValues({ name: { regexp: '^d[[:alpha:]]+$' } });
    assert.deepEqual([...byPosixClass.keys()], ['db'], 'Go RE2 POSIX class, as in every provider');
    await assert.rejects(c.findValues({ name: { regexp: 'db(?!-)' } }),
      (e: unknown) => e instanceof ProviderError && e.kind === 'InvalidRequest' && e.message === 'find.name.regexp: error parsing regexp: invalid or unsupported Perl syntax: `(?!`');
    await assert.rejects(c.findValues({ path: 'x' }), (e: unknown) => e instanceof ProviderError && e.kind === 'InvalidRequest');
  });

  test('validate() passes with get; the registry loads the provider', async () => {
    const rec = callRecorder();
    const c = await store(asSa('reader'), ctxFor(rec));
    await c.validate();
    assert.deepEqual(rec.calls, ['CreateSelfSubjectAccessReview']);
    assert.equal((await getProvider('kubernetes')).name, 'kubernetes');
  });

  test('another namespace is AccessDenied, and validate names the missing permission', async () => {
    const c = await store(asSa('reader', otherNs));
    await assert.rejects(c.getValue({ key: 'db' }), (e: unknown) => {
      assert.ok(e instanceof ProviderError);
      assert.equal(e.kind, 'AccessDenied');
      assert.match(e.message, new RegExp(`GetSecret secret "${otherNs}/db": forbidden \\(HTTP 403: .*cannot get resource "secrets".* in the namespace "${otherNs}"`));
      assert.doesNotMatch(e.message, /other"?}/);
      return true;
    });
    await assert.rejects(c.validate(), (e: unknown) => {
      assert.ok(e instanceof ProviderError);
      assert.equal(e.kind, 'AccessDenied');
      assert.equal(e.message, `Kubernetes: the store's credentials may not get secrets in namespace "${otherNs}" (missing permission: get secrets)`);
      return true;
    });
    const nobody = await store(asSa('nobody'));
    await assert.rejects(nobody.validate(), (e: unknown) => e instanceof ProviderError && e.kind === 'AccessDenied' && /missing permission: get secrets/.test(e.message));
  });

  test('get without list: reads work, validate passes, find fails naming list', async () => {
    const c = await store(asSa('getonly'));
    assert.equal(text(await c.getValue({ key: 'api' })), '{"token":"abc"}');
    await c.validate();
    assert.equal(await c.can('list'), false);
    await assert.rejects(c.findValues({ tags: { team: 'search' } }), (e: unknown) => {
      assert.ok(e instanceof ProviderError);
      assert.equal(e.kind, 'AccessDenied');
      assert.match(e.message, /ListSecrets secrets in namespace .* \(find needs the list permission\): forbidden .*cannot list resource "secrets"/);
      return true;
    });
  });
});

describe('other credentials', () => {
  test('token.bearerToken from a Secret', async () => {
    const jwt = await ctxFor().createServiceAccountToken({ name: 'reader' });
    await putSecret(kube, storeNs, 'remote-token', { token: jwt });
    const c = await store({ server: server(), auth: { token: { bearerToken: { name: 'remote-token', key: 'token' } } }, remoteNamespace: remoteNs });
    assert.equal(text(await c.getValue({ key: 'api' })), '{"token":"abc"}');
  });

  test('a rejected bearer token is BadCredentials', async () => {
    await putSecret(kube, storeNs, 'bad-token', { token: 'not-a-token' });
    const c = await store({ server: server(), auth: { token: { bearerToken: { name: 'bad-token', key: 'token' } } }, remoteNamespace: remoteNs });
    await assert.rejects(c.getValue({ key: 'api' }), (e: unknown) => e instanceof ProviderError && e.kind === 'BadCredentials' && !/not-a-token/.test(e.message));
  });

  test('client certificate (cert.clientCert / clientKey)', async () => {
    const pki = path.join(stateDir, 'pki');
    await putSecret(kube, storeNs, 'remote-cert', { 'tls.crt': readFileSync(path.join(pki, 'admin.crt'), 'utf8'), 'tls.key': readFileSync(path.join(pki, 'admin.key'), 'utf8') });
    const c = await store({
      server: server(),
      auth: { cert: { clientCert: { name: 'remote-cert', key: 'tls.crt' }, clientKey: { name: 'remote-cert', key: 'tls.key' } } },
      remoteNamespace: otherNs,
    });
    assert.equal(text(await c.getValue({ key: 'db' })), '{"user":"other"}');
  });

  test('authRef: a kubeconfig in a Secret', async () => {
    await putSecret(kube, storeNs, 'remote-kubeconfig', { config: readFileSync(env.KUBECONFIG, 'utf8') });
    const c = await store({ authRef: { name: 'remote-kubeconfig', key: 'config' }, remoteNamespace: remoteNs });
    assert.equal(text(await c.getValue({ key: 'api' })), '{"token":"abc"}');
    await c.validate();
  });

  test('server.caProvider from a ConfigMap; without a CA the TLS handshake fails as Unreachable', async () => {
    await kube.apply(core.configMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'remote-ca', namespace: storeNs }, data: { 'ca.crt': readFileSync(path.join(stateDir, 'pki', 'ca.crt'), 'utf8') } } as never);
    const c = await store({ server: { url: env.KUBE_APISERVER_URL, caProvider: { type: 'ConfigMap', name: 'remote-ca', key: 'ca.crt' } }, auth: { serviceAccount: { name: 'reader' } }, remoteNamespace: remoteNs });
    await c.validate();
    const untrusted = await store({ server: { url: env.KUBE_APISERVER_URL }, auth: { serviceAccount: { name: 'reader' } }, remoteNamespace: remoteNs });
    await assert.rejects(untrusted.getValue({ key: 'api' }), (e: unknown) => e instanceof ProviderError && e.kind === 'Unreachable' && /TLS handshake/.test(e.message));
  });

  test('an unreachable server is Unreachable', async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const c = await store({ server: { url: `https://127.0.0.1:${port}`, caBundle: caB64 }, auth: { serviceAccount: { name: 'reader' } }, remoteNamespace: remoteNs });
    await assert.rejects(c.getValue({ key: 'api' }), (e: unknown) => e instanceof ProviderError && e.kind === 'Unreachable' && /ECONNREFUSED/.test(e.message));
  });

  test('static checks name the field', () => {
    assert.deepEqual(kubernetesProvider.validateConfig({ remoteNamespace: 'Not_A_NS', auth: { token: {} } }), [
      // The schema's problem (in the apiserver's words), then the provider's semantic one.
      `spec.provider.kubernetes.remoteNamespace: Invalid value: "Not_A_NS": should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'`,
      'spec.provider.kubernetes.auth.token.bearerToken: is required',
    ]);
    assert.deepEqual(kubernetesProvider.validateConfig({}), ['spec.provider.kubernetes: one of auth.cert, auth.token, auth.serviceAccount or authRef is required']);
  });
});
