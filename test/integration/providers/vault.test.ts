// The Vault provider against OpenBao (dev mode, KV v2 at secret/) and the local kube-apiserver.
// The shared bao keeps state between runs, so every path, policy and auth mount carries a per-run
// id; auth mounts made here are removed at the end. Sealing and TLS use a second bao dev server
// this file starts (and stops, by pid) on a free port.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensurePeers, repoRoot, stateDir } from '../../peers/index.ts';
import type { PeersEnv } from '../../peers/index.ts';
import { waitFor } from '../helpers.ts';
import { KubeClient } from '../../../src/kube/client.ts';
import { core } from '../../../src/kube/types.ts';
import { LoginCache, newVaultClient, vaultProvider } from '../../../src/providers/vault/index.ts';
import type { VaultKvClient, VaultProvider } from '../../../src/providers/vault/index.ts';
import { ProviderError, isNotFound } from '../../../src/providers/provider.ts';
import type { ProviderClient, ProviderContext, RemoteValue } from '../../../src/providers/provider.ts';
import { getProvider } from '../../../src/providers/registry.ts';
import { applyObject, callRecorder, kubeProviderContext, putSecret, putServiceAccount, rbac } from './context.ts';
import type { CallRecorder } from './context.ts';

const execFileP = promisify(execFile);
const run = `tsr${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
let env: PeersEnv;
let kube: KubeClient;
let ns: string;
const clients: ProviderClient[] = [];
const authMounts: string[] = [];
const text = (v: RemoteValue | undefined): string => {
  if (!v) throw new Error('no value');
  return Buffer.from(v.value).toString('utf8');
};

/** Calls bao's HTTP API with the root token (test setup only). */
async function bao(method: string, p: string, body?: unknown, token = env.VAULT_TOKEN, addr = env.VAULT_ADDR): Promise<Record<string, unknown>> {
  const res = await fetch(`${addr}/v1/${p}`, {
    method,
    headers: { 'x-vault-token': token, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const t = await res.text();
  if (!res.ok) throw new Error(`bao ${method} ${p}: ${res.status} ${t}`);
  return t ? (JSON.parse(t) as Record<string, unknown>) : {};
}

async function put(key: string, data: unknown): Promise<void> {
  await bao('POST', `secret/data/${key}`, { data });
}

/** Writes a KV v2 secret from raw JSON text (numbers JS cannot hold exactly). */
async function putRaw(key: string, dataJson: string): Promise<void> {
  const res = await fetch(`${env.VAULT_ADDR}/v1/secret/data/${key}`, { method: 'POST', headers: { 'x-vault-token': env.VAULT_TOKEN, 'content-type': 'application/json' }, body: `{"data":${dataJson}}` });
  if (!res.ok) throw new Error(`bao POST secret/data/${key}: ${res.status}`);
}

async function enableAuth(type: string, mount: string): Promise<void> {
  await bao('POST', `sys/auth/${mount}`, { type });
  authMounts.push(mount);
}

async function createToken(policies: string[], ttl = '1h'): Promise<string> {
  const out = await bao('POST', 'auth/token/create', { policies, ttl, no_default_policy: false });
  return (out.auth as { client_token: string }).client_token;
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** A context whose Secrets are given inline (Vault-only tests need no cluster). */
function inlineContext(secrets: Record<string, string>, rec: CallRecorder = callRecorder()): ProviderContext {
  return {
    namespace: 'default',
    readSecretKey: async (ref) => {
      const v = secrets[`${ref.name}/${ref.key ?? ''}`];
      if (v === undefined) throw new ProviderError('BadCredentials', `secret ${ref.name} has no key ${ref.key}`);
      return v;
    },
    createServiceAccountToken: async () => {
      throw new ProviderError('BadCredentials', 'no tokens in this test');
    },
    onApiCall: (op) => rec.calls.push(op),
  };
}

async function store(config: Omit<VaultProvider, 'server'> & { server?: string }, ctx: ProviderContext, logins = new LoginCache()): Promise<VaultKvClient> {
  const full = { server: env.VAULT_ADDR, ...config } as VaultProvider;
  assert.deepEqual(vaultProvider.validateConfig(full), []);
  const c = await newVaultClient(full, ctx, { logins });
  clients.push(c);
  return c;
}

const tokenAuth = (name = 'vault-token') => ({ tokenSecretRef: { name, key: 'token' } });
let readerToken: string;
const rootCtx = () => inlineContext({ 'vault-token/token': env.VAULT_TOKEN });

before(async () => {
  env = { ...(await ensurePeers(['etcd', 'kube-apiserver', 'kube-controller-manager', 'bao'])) };
  await putRaw(`${run}/db`, '{"user":"app","password":"s3cr3t","port":5432,"big":12345678901234567890,"ratio":1.50,"nested":{"b":2,"a":[1,"x<y>&z"]}}');
  await bao('POST', `secret/metadata/${run}/db`, { custom_metadata: { team: 'payments', env: 'prod' } });
  await put(`${run}/rotating`, { v: 'one' });
  await put(`${run}/rotating`, { v: 'two' });
  await put(`${run}/app/a`, { k: 'a' });
  await put(`${run}/app/nested/b`, { k: 'b' });
  await bao('POST', `secret/metadata/${run}/app/nested/b`, { custom_metadata: { team: 'payments' } });
  await put(`${run}/app/nested/c`, { k: 'c' });
  await bao('POST', `secret/metadata/${run}/app/nested/c`, { custom_metadata: { team: 'search' } });
  await put(`${run}/gone`, { k: 'gone' });
  await bao('DELETE', `secret/data/${run}/gone`);
  await put(`${run}-private/x`, { k: 'private' });
  await bao('POST', `sys/mounts/kv1-${run}`, { type: 'kv', options: { version: '1' } });
  await bao('POST', `kv1-${run}/team/cfg`, { url: 'https://example.test', n: 7 });
  await bao('PUT', `sys/policies/acl/${run}-read`, {
    policy: `path "secret/data/${run}/*" { capabilities = ["read"] }\npath "secret/metadata/${run}/*" { capabilities = ["read", "list"] }\npath "secret/metadata/${run}" { capabilities = ["list"] }`,
  });
  readerToken = await createToken([`${run}-read`]);
});

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  if (kube) {
    await kube.delete(rbac.clusterRoleBindings, undefined, `${ns}-vault-reviewer`).catch(() => undefined);
    await kube.delete(core.namespaces, undefined, ns).catch(() => undefined);
    kube.close();
  }
  for (const m of authMounts) await bao('DELETE', `sys/auth/${m}`).catch(() => undefined);
  await bao('DELETE', `sys/mounts/kv1-${run}`).catch(() => undefined);
});

describe('KV reads with a token', () => {
  test('KV v2: the data map as Go json.Marshal writes it (sorted keys, numbers as written, HTML escaped)', async () => {
    const c = await store({ path: 'secret', auth: tokenAuth() }, rootCtx());
    assert.equal(
      text(await c.getValue({ key: `${run}/db` })),
      '{"big":12345678901234567000,"nested":{"a":[1,"x\\u003cy\\u003e\\u0026z"],"b":2},"password":"s3cr3t","port":5432,"ratio":1.5,"user":"app"}',
    );
  });

  test('remoteRef.key may carry the mount (and data/), as ESO allows; without store path the first segment is the mount', async () => {
    const withPath = await store({ path: 'secret', auth: tokenAuth() }, rootCtx());
    const noPath = await store({ auth: tokenAuth() }, rootCtx());
    for (const [c, key] of [
      [withPath, `secret/${run}/rotating`],
      [withPath, `secret/data/${run}/rotating`],
      [noPath, `secret/${run}/rotating`],
      [noPath, `secret/data/${run}/rotating`],
    ] as const) {
      assert.equal(text(await c.getValue({ key })), '{"v":"two"}', key);
    }
  });

  test('KV v2 versions', async () => {
    const c = await store({ path: 'secret', auth: tokenAuth() }, rootCtx());
    assert.equal(text(await c.getValue({ key: `${run}/rotating`, version: '1' })), '{"v":"one"}');
    assert.equal(text(await c.getValue({ key: `${run}/rotating`, version: '2' })), '{"v":"two"}');
    await assert.rejects(c.getValue({ key: `${run}/rotating`, version: '9' }), (e: unknown) => isNotFound(e));
  });

  test('KV v1 mount', async () => {
    const c = await store({ path: `kv1-${run}`, version: 'v1', auth: tokenAuth() }, rootCtx());
    assert.equal(text(await c.getValue({ key: 'team/cfg' })), '{"n":7,"url":"https://example.test"}');
    await assert.rejects(c.getValue({ key: 'team/cfg', metadataPolicy: 'Fetch' }), (e: unknown) => e instanceof ProviderError && e.kind === 'InvalidRequest');
    const found = await c.findValues({ path: 'team' });
    assert.deepEqual([...found.keys()], ['team/cfg']);
  });

  test('metadataPolicy Fetch: the system fields ESO documents and custom_metadata, as one JSON object', async () => {
    const c = await store({ path: 'secret', auth: tokenAuth() }, rootCtx());
    const meta = await bao('GET', `secret/metadata/${run}/rotating`);
    const created = (meta.data as { created_time: string }).created_time;
    assert.match(created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    // Sorted keys (Go's map marshalling); current_version as Vault's number text, %v'd to a string.
    assert.equal(
      text(await c.getValue({ key: `${run}/rotating`, metadataPolicy: 'Fetch' })),
      `{"created_time":"${created}","current_version":"2","delete_version_after":"0s"}`,
    );
    const db = JSON.parse(text(await c.getValue({ key: `${run}/db`, metadataPolicy: 'Fetch' }))) as Record<string, string>;
    assert.deepEqual(Object.keys(db), ['created_time', 'current_version', 'delete_version_after', 'env', 'team']);
    assert.deepEqual([db.current_version, db.env, db.team], ['1', 'prod', 'payments']);
  });

  test('a custom_metadata key named like a system field wins over it, as in ESO', async () => {
    await put(`${run}/shadow`, { k: 'v' });
    await bao('POST', `secret/metadata/${run}/shadow`, { custom_metadata: { current_version: 'custom' } });
    const c = await store({ path: 'secret', auth: tokenAuth() }, rootCtx());
    const got = JSON.parse(text(await c.getValue({ key: `${run}/shadow`, metadataPolicy: 'Fetch' }))) as Record<string, string>;
    assert.equal(got.current_version, 'custom');
    // find by tags sees the system fields too (ESO matches tags on the same map).
    const found = await c.findValues({ path: `${run}/app`, tags: { current_version: '1', team: 'payments' } });
    assert.deepEqual([...found.keys()], [`${run}/app/nested/b`]);
  });

  test('keys with a leading "/" (the style of ESO\'s Vault docs) read the same secret, data and metadata', async () => {
    const withPath = await store({ path: 'secret', auth: tokenAuth() }, rootCtx());
    const noPath = await store({ auth: tokenAuth() }, rootCtx());
    assert.equal(text(await withPath.getValue({ key: `/${run}/rotating` })), '{"v":"two"}');
    assert.equal(text(await withPath.getValue({ key: `/${run}//rotating`, version: '1' })), '{"v":"one"}');
    assert.equal(JSON.parse(text(await withPath.getValue({ key: `/${run}/db`, metadataPolicy: 'Fetch' }))).team, 'payments');
    assert.equal(text(await noPath.getValue({ key: `/secret/data/${run}/rotating` })), '{"v":"two"}');
    assert.equal(JSON.parse(text(await noPath.getValue({ key: `/secret/data/${run}/db`, metadataPolicy: 'Fetch' }))).env, 'prod');
  });

  test('missing key, deleted version and missing mount are NotFound', async () => {
    const c = await store({ path: 'secret', auth: tokenAuth() }, rootCtx());
    await assert.rejects(c.getValue({ key: `${run}/nope` }), (e: unknown) => {
      assert.ok(isNotFound(e));
      assert.match((e as Error).message, /ReadSecretData "secret\/data\/tsr.*\/nope": not found \(HTTP 404\)/);
      return true;
    });
    await assert.rejects(c.getValue({ key: `${run}/gone` }), (e: unknown) => isNotFound(e) && /deleted or destroyed/.test((e as Error).message));
    const noMount = await store({ path: `nomount-${run}`, auth: tokenAuth() }, rootCtx());
    await assert.rejects(noMount.getValue({ key: 'x' }), (e: unknown) => isNotFound(e) && /no secrets engine/.test((e as Error).message));
    await assert.rejects(c.getValue({ key: `${run}/nope`, metadataPolicy: 'Fetch' }), (e: unknown) => isNotFound(e));
  });

  test('find: by path (recursive LIST), by name regexp, by custom_metadata tags', async () => {
    const rec = callRecorder();
    const c = await store({ path: 'secret', auth: tokenAuth() }, inlineContext({ 'vault-token/token': env.VAULT_TOKEN }, rec));
    const all = await c.findValues({ path: `${run}/app` });
    assert.deepEqual([...all.keys()].sort(), [`${run}/app/a`, `${run}/app/nested/b`, `${run}/app/nested/c`]);
    assert.equal(text(all.get(`${run}/app/nested/b`)), '{"k":"b"}');
    assert.deepEqual(countBy(rec.calls), { ListSecrets: 2, ReadSecretData: 3 });

    const byName = await c.findValues({ path: run, name: { regexp: '(?i)NESTED/[bc]$' } });
    assert.deepEqual([...byName.keys()].sort(), [`${run}/app/nested/b`, `${run}/app/nested/c`]);
    const byPosixClass = await c.findValues({ path: run, name: { regexp: '/[[:alpha:]]$' } });
    assert.deepEqual([...byPosixClass.keys()].sort(), [`${run}/app/a`, `${run}/app/nested/b`, `${run}/app/nested/c`], 'Go RE2 POSIX class');
    await assert.rejects(c.findValues({ path: run, name: { regexp: '(a' } }),
      (e: unknown) => e instanceof ProviderError && e.kind === 'InvalidRequest' && e.message === 'find.name.regexp: error parsing regexp: missing closing ): `(a`');

    const byTags = await c.findValues({ path: run, tags: { team: 'payments' } });
    assert.deepEqual([...byTags.keys()].sort(), [`${run}/app/nested/b`, `${run}/db`]);
    const byTwoTags = await c.findValues({ path: run, tags: { team: 'payments', env: 'prod' } });
    assert.deepEqual([...byTwoTags.keys()], [`${run}/db`]);
    // deleted secrets are listed by Vault but skipped
    const everything = await c.findValues({ path: run });
    assert.ok(!everything.has(`${run}/gone`));
    assert.equal((await c.findValues({ path: `${run}/nothing-here` })).size, 0);
  });

  test('validate() looks the token up', async () => {
    const rec = callRecorder();
    const c = await store({ path: 'secret', auth: tokenAuth() }, inlineContext({ 'vault-token/token': env.VAULT_TOKEN }, rec));
    await c.validate();
    assert.deepEqual(rec.calls, ['LookupSelf']);
  });

  test('the registry loads the provider lazily', async () => {
    const p = await getProvider('vault');
    assert.equal(p.name, 'vault');
  });
});

describe('errors', () => {
  test('a wrong token is BadCredentials; a path outside the policy is AccessDenied', async () => {
    const bad = await store({ path: 'secret', auth: tokenAuth() }, inlineContext({ 'vault-token/token': 'hvs.not-a-real-token' }));
    await assert.rejects(bad.getValue({ key: `${run}/db` }), (e: unknown) => {
      assert.ok(e instanceof ProviderError);
      assert.equal(e.kind, 'BadCredentials');
      assert.match(e.message, /tokenSecretRef is invalid, expired or revoked/);
      assert.doesNotMatch(e.message, /not-a-real-token/);
      return true;
    });
    await assert.rejects(bad.validate(), (e: unknown) => e instanceof ProviderError && e.kind === 'BadCredentials');

    const reader = await store({ path: 'secret', auth: tokenAuth() }, inlineContext({ 'vault-token/token': readerToken }));
    assert.equal(text(await reader.getValue({ key: `${run}/rotating` })), '{"v":"two"}');
    await reader.validate();
    await assert.rejects(reader.getValue({ key: `${run}-private/x` }), (e: unknown) => {
      assert.ok(e instanceof ProviderError);
      assert.equal(e.kind, 'AccessDenied');
      assert.match(e.message, /ReadSecretData "secret\/data\/tsr.*-private\/x": permission denied \(HTTP 403: permission denied\)/);
      assert.doesNotMatch(e.message, /private"?}/);
      return true;
    });
  });

  test('an unreachable server is Unreachable and fails fast', async () => {
    const port = await freePort();
    const c = await store({ server: `http://127.0.0.1:${port}`, path: 'secret', auth: tokenAuth() }, rootCtx());
    const t0 = Date.now();
    await assert.rejects(c.getValue({ key: 'x' }), (e: unknown) => e instanceof ProviderError && e.kind === 'Unreachable' && e.retryable && /ECONNREFUSED/.test(e.message));
    assert.ok(Date.now() - t0 < 2000);
  });

  test('static checks name the field', () => {
    const problems = vaultProvider.validateConfig({ server: 'ftp://x', version: 'v3' as 'v1', auth: { appRole: { secretRef: { name: 's' } } } } as VaultProvider);
    // The schema's problems first (in the apiserver's words), then the provider's semantic ones.
    assert.deepEqual(problems, [
      'spec.provider.vault.version: Unsupported value: "v3": supported values: "v1", "v2"',
      'spec.provider.vault.server: must be an http or https URL',
      'spec.provider.vault.auth.appRole: one of roleId or roleRef is required',
      'spec.provider.vault.auth.appRole.secretRef.key: is required',
    ]);
  });
});

describe('login reuse and coalescing', () => {
  let roleId: string;
  let secretId: string;
  const mount = `approle-${run}`;
  before(async () => {
    await enableAuth('approle', mount);
    await bao('POST', `auth/${mount}/role/reader`, { token_policies: [`${run}-read`], token_ttl: '1h', token_max_ttl: '4h' });
    roleId = ((await bao('GET', `auth/${mount}/role/reader/role-id`)).data as { role_id: string }).role_id;
    secretId = ((await bao('POST', `auth/${mount}/role/reader/secret-id`, {})).data as { secret_id: string }).secret_id;
  });

  const appRole = () => ({ appRole: { path: mount, roleRef: { name: 'approle', key: 'role' }, secretRef: { name: 'approle', key: 'secret' } } });
  const ctxFor = (rec: CallRecorder, secret = secretId) => inlineContext({ 'approle/role': roleId, 'approle/secret': secret }, rec);

  test('appRole: one login for 2 clients × 25 concurrent reads; identical in-flight reads coalesced', async () => {
    const rec = callRecorder();
    const logins = new LoginCache();
    const a = await store({ path: 'secret', auth: appRole() }, ctxFor(rec), logins);
    const b = await store({ path: 'secret', auth: appRole() }, ctxFor(rec), logins);
    const keys = [`${run}/db`, `${run}/rotating`, `${run}/app/a`, `${run}/app/nested/b`, `${run}/app/nested/c`];
    const reads = Array.from({ length: 25 }, (_, i) => (i % 2 ? a : b).getValue({ key: keys[i % keys.length]! }));
    const values = await Promise.all(reads);
    assert.equal(text(values[1]), '{"v":"two"}');
    const counts = countBy(rec.calls);
    assert.equal(counts.Login, 1, JSON.stringify(counts));
    // each client reads each of the 5 keys once; the other reads joined one in flight
    assert.equal(counts.ReadSecretData, 10, JSON.stringify(counts));
    assert.equal(a.coalescedReads + b.coalescedReads, 15);
    rec.reset();
    await a.getValue({ key: `${run}/db` });
    await b.validate();
    assert.deepEqual(rec.calls, ['ReadSecretData', 'LookupSelf']);
    console.log(`[vault] appRole 25 concurrent reads over 2 clients: logins=${counts.Login}, reads=${counts.ReadSecretData}, coalesced=${a.coalescedReads + b.coalescedReads}`);
  });

  test('appRole: near expiry the token is renewed (renew-self), past it a new login happens', async () => {
    const rec = callRecorder();
    let skew = 0;
    const logins = new LoginCache(() => Date.now() + skew);
    const c = await store({ path: 'secret', auth: appRole() }, ctxFor(rec), logins);
    await c.getValue({ key: `${run}/db` });
    skew = 45 * 60_000; // 45 of 60 minutes: past two thirds of the lease
    await Promise.all([c.getValue({ key: `${run}/rotating` }), c.getValue({ key: `${run}/app/a` })]);
    assert.deepEqual(countBy(rec.calls), { Login: 1, RenewSelf: 1, ReadSecretData: 3 });
    skew += 2 * 3600_000; // the renewed lease is past too
    rec.reset();
    // renewal of an expired-in-our-eyes token is not tried: log in again
    await c.getValue({ key: `${run}/db` });
    assert.deepEqual(countBy(rec.calls), { Login: 1, ReadSecretData: 1 });
  });

  test('appRole: a wrong secret_id is BadCredentials at login; a revoked login token is replaced once', async () => {
    const bad = await store({ path: 'secret', auth: appRole() }, ctxFor(callRecorder(), 'not-the-secret-id'));
    await assert.rejects(bad.getValue({ key: `${run}/db` }), (e: unknown) => {
      assert.ok(e instanceof ProviderError);
      assert.equal(e.kind, 'BadCredentials');
      assert.match(e.message, /Vault Login "auth\/approle-.*\/login": credentials rejected \(HTTP 400/);
      assert.doesNotMatch(e.message, /not-the-secret-id/);
      return true;
    });
    const rec = callRecorder();
    const logins = new LoginCache();
    const c = await store({ path: 'secret', auth: appRole() }, ctxFor(rec), logins);
    await c.getValue({ key: `${run}/db` });
    // revoke every token of the role behind the provider's back (via the accessor list is root-only; revoke-self with it)
    const token = await (logins as unknown as { entries: Map<string, { token: string }> }).entries.values().next().value!.token;
    await bao('POST', 'auth/token/revoke-self', {}, token);
    rec.reset();
    assert.equal(text(await c.getValue({ key: `${run}/rotating` })), '{"v":"two"}');
    assert.deepEqual(countBy(rec.calls), { ReadSecretData: 2, LookupSelf: 1, Login: 1 });
  });

  test('appRole login with a roleId literal and the default path is accepted by validateConfig', () => {
    assert.deepEqual(vaultProvider.validateConfig({ server: 'https://vault.example', auth: { appRole: { roleId: 'r', secretRef: { name: 's', key: 'k' } } } } as never), []);
  });
});

describe('userPass', () => {
  const mount = `userpass-${run}`;
  before(async () => {
    await enableAuth('userpass', mount);
    await bao('POST', `auth/${mount}/users/reader`, { password: 'pa55word', token_policies: [`${run}-read`] });
  });
  test('logs in once and reads; a wrong password is BadCredentials', async () => {
    const rec = callRecorder();
    const c = await store({ path: 'secret', auth: { userPass: { path: mount, username: 'reader', secretRef: { name: 'up', key: 'password' } } } }, inlineContext({ 'up/password': 'pa55word' }, rec));
    assert.equal(text(await c.getValue({ key: `${run}/rotating` })), '{"v":"two"}');
    await c.validate();
    assert.equal(rec.count('Login'), 1);
    const bad = await store({ path: 'secret', auth: { userPass: { path: mount, username: 'reader', secretRef: { name: 'up', key: 'password' } } } }, inlineContext({ 'up/password': 'wrong' }));
    await assert.rejects(bad.validate(), (e: unknown) => e instanceof ProviderError && e.kind === 'BadCredentials' && !/wrong/.test(e.message));
  });
});

describe('kubernetes and jwt auth against the real kube-apiserver', () => {
  const k8sMount = `k8s-${run}`;
  const jwtMount = `jwt-${run}`;
  let rec: CallRecorder;
  let ctx: ReturnType<typeof kubeProviderContext>;
  before(async () => {
    // Cleanup is done by the file's after(): node:test runs an after() registered inside a hook
    // as soon as that hook ends.
    kube = await KubeClient.create({ kubeconfig: env.KUBECONFIG, qps: 500, burst: 1000, fieldManager: 'tessera-test' });
    ns = `vault-${run}`;
    await kube.create(core.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    // The reviewer: a ServiceAccount allowed to call TokenReview (system:auth-delegator).
    await putServiceAccount(kube, ns, 'vault-reviewer');
    await putServiceAccount(kube, ns, 'app');
    await putServiceAccount(kube, ns, 'intruder');
    await applyObject(kube, rbac.clusterRoleBindings, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: `${ns}-vault-reviewer` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' },
      subjects: [{ kind: 'ServiceAccount', name: 'vault-reviewer', namespace: ns }],
    } as never);
    rec = callRecorder();
    ctx = kubeProviderContext(kube, ns, rec);
    const reviewerJwt = await ctx.createServiceAccountToken({ name: 'vault-reviewer' });
    ctx.log.tokenRequests.length = 0;
    // RBAC reaches the apiserver's authorizer a moment after the binding is written.
    const ca = readFileSync(path.join(stateDir, 'pki', 'ca.crt'));
    await waitFor('the reviewer may create TokenReviews', () => tokenReviewAllowed(env.KUBE_APISERVER_URL, ca, reviewerJwt), 15_000, 100);

    await enableAuth('kubernetes', k8sMount);
    await bao('POST', `auth/${k8sMount}/config`, {
      kubernetes_host: env.KUBE_APISERVER_URL,
      kubernetes_ca_cert: readFileSync(path.join(stateDir, 'pki', 'ca.crt'), 'utf8'),
      token_reviewer_jwt: reviewerJwt,
      disable_local_ca_jwt: true,
    });
    await bao('POST', `auth/${k8sMount}/role/app`, { bound_service_account_names: ['app'], bound_service_account_namespaces: [ns], token_policies: [`${run}-read`], token_ttl: '1h' });

    await enableAuth('jwt', jwtMount);
    await bao('POST', `auth/${jwtMount}/config`, {
      jwt_validation_pubkeys: [readFileSync(path.join(stateDir, 'pki', 'sa.pub'), 'utf8')],
      bound_issuer: 'https://kubernetes.default.svc.cluster.local',
    });
    await bao('POST', `auth/${jwtMount}/role/app`, {
      role_type: 'jwt',
      bound_audiences: ['vault'],
      user_claim: 'sub',
      bound_subject: `system:serviceaccount:${ns}:app`,
      token_policies: [`${run}-read`],
      token_ttl: '1h',
    });
  });

  test('kubernetes auth (serviceAccountRef): TokenRequest → bao TokenReview on the apiserver → read; one login for many reads', async () => {
    rec.reset();
    const logins = new LoginCache();
    const c = await store({ path: 'secret', auth: { kubernetes: { mountPath: k8sMount, role: 'app', serviceAccountRef: { name: 'app' } } } }, ctx, logins);
    const values = await Promise.all([`${run}/db`, `${run}/rotating`, `${run}/db`, `${run}/app/a`].map((key) => c.getValue({ key })));
    assert.equal(text(values[1]), '{"v":"two"}');
    await c.validate();
    assert.deepEqual(countBy(rec.calls), { Login: 1, ReadSecretData: 3, LookupSelf: 1 });
    assert.equal(ctx.log.tokenRequests.length, 1, 'one TokenRequest, for the one login');
    assert.equal(ctx.log.tokenRequests[0]!.name, 'app');
    await assert.rejects(c.getValue({ key: `${run}-private/x` }), (e: unknown) => e instanceof ProviderError && e.kind === 'AccessDenied');
  });

  test('kubernetes auth (secretRef with a token): works the same', async () => {
    const jwt = await ctx.createServiceAccountToken({ name: 'app' });
    await putSecret(kube, ns, 'app-jwt', { token: jwt });
    const c = await store({ path: 'secret', auth: { kubernetes: { mountPath: k8sMount, role: 'app', secretRef: { name: 'app-jwt' } } } }, ctx);
    assert.equal(text(await c.getValue({ key: `${run}/rotating` })), '{"v":"two"}');
  });

  test('kubernetes auth with a ServiceAccount the role does not bind is BadCredentials', async () => {
    const c = await store({ path: 'secret', auth: { kubernetes: { mountPath: k8sMount, role: 'app', serviceAccountRef: { name: 'intruder' } } } }, ctx);
    await assert.rejects(c.getValue({ key: `${run}/db` }), (e: unknown) => {
      assert.ok(e instanceof ProviderError, String(e));
      assert.equal(e.kind, 'BadCredentials');
      assert.match(e.message, /Vault Login "auth\/k8s-.*\/login": credentials rejected/);
      return true;
    });
  });

  test('jwt auth (kubernetesServiceAccountToken, audience "vault" by default) verified with the cluster signing key', async () => {
    rec.reset();
    ctx.log.tokenRequests.length = 0;
    const c = await store({ path: 'secret', auth: { jwt: { path: jwtMount, role: 'app', kubernetesServiceAccountToken: { serviceAccountRef: { name: 'app' } } } } }, ctx);
    assert.equal(text(await c.getValue({ key: `${run}/rotating` })), '{"v":"two"}');
    assert.deepEqual(ctx.log.tokenRequests.map((r) => r.audiences), [['vault']]);
    assert.equal(rec.count('Login'), 1);
    // a token for another audience is refused by the role
    const other = await store({ path: 'secret', auth: { jwt: { path: jwtMount, role: 'app', kubernetesServiceAccountToken: { serviceAccountRef: { name: 'app', audiences: ['elsewhere'] } } } } }, ctx);
    await assert.rejects(other.validate(), (e: unknown) => e instanceof ProviderError && e.kind === 'BadCredentials');
  });

  test('jwt auth (secretRef)', async () => {
    const jwt = await ctx.createServiceAccountToken({ name: 'app', audiences: ['vault'] });
    await putSecret(kube, ns, 'app-vault-jwt', { jwt });
    const c = await store({ path: 'secret', auth: { jwt: { path: jwtMount, role: 'app', secretRef: { name: 'app-vault-jwt', key: 'jwt' } } } }, ctx);
    await c.validate();
  });

  test('tokenSecretRef read from a real Secret; caProvider from a ConfigMap is read (plain http ignores it)', async () => {
    await putSecret(kube, ns, 'vault-token', { token: readerToken });
    await kube.apply(
      { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'vault-ca', namespace: ns }, data: { 'ca.crt': readFileSync(path.join(stateDir, 'pki', 'ca.crt'), 'utf8') } } as never,
    );
    const c = await store({ path: 'secret', auth: tokenAuth(), caProvider: { type: 'ConfigMap', name: 'vault-ca', key: 'ca.crt' } }, ctx);
    assert.equal(text(await c.getValue({ key: `${run}/rotating` })), '{"v":"two"}');
  });
});

describe('a second bao server: TLS, cert auth, sealing', () => {
  let child: ChildProcess | undefined;
  let addr: string;
  let certDir: string;
  const root = `${run}-root`;
  before(async () => {
    const bin = readBinPath();
    const port = await freePort();
    certDir = mkdtempSync(path.join(os.tmpdir(), 'tessera-bao-tls-'));
    addr = `https://127.0.0.1:${port}`;
    child = spawn(bin, ['server', '-dev', '-dev-tls', `-dev-tls-cert-dir=${certDir}`, `-dev-root-token-id=${root}`, `-dev-listen-address=127.0.0.1:${port}`, '-dev-no-store-token'], {
      stdio: 'ignore',
      env: { ...process.env, HOME: certDir },
    });
    await waitFor('bao -dev-tls CA', () => {
      try {
        return readFileSync(path.join(certDir, 'vault-ca.pem'), 'utf8');
      } catch {
        return undefined;
      }
    }, 20_000);
    await waitFor('second bao ready', async () => {
      const { stdout } = await execFileP(bin, ['status', '-format=json'], { env: { ...process.env, VAULT_ADDR: addr, VAULT_CACERT: path.join(certDir, 'vault-ca.pem'), HOME: certDir } }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
      return stdout.includes('"sealed": false');
    }, 20_000);
  });
  after(() => {
    if (child?.pid !== undefined) process.kill(child.pid, 'SIGTERM');
    rmSync(certDir, { recursive: true, force: true });
  });

  const baoCli = (args: string[]) =>
    execFileP(readBinPath(), args, { env: { ...process.env, VAULT_ADDR: addr, VAULT_TOKEN: root, VAULT_CACERT: path.join(certDir, 'vault-ca.pem'), HOME: certDir } });

  test('https with caBundle; without it the TLS handshake fails as Unreachable', async () => {
    const caPem = readFileSync(path.join(certDir, 'vault-ca.pem'));
    const ok = await store({ server: addr, path: 'secret', caBundle: caPem.toString('base64'), auth: tokenAuth() }, inlineContext({ 'vault-token/token': root }));
    await baoCli(['kv', 'put', '-mount=secret', 'tls/x', 'a=b']);
    assert.equal(text(await ok.getValue({ key: 'tls/x' })), '{"a":"b"}');
    const untrusted = await store({ server: addr, path: 'secret', auth: tokenAuth() }, inlineContext({ 'vault-token/token': root }));
    await assert.rejects(untrusted.validate(), (e: unknown) => e instanceof ProviderError && e.kind === 'Unreachable' && /TLS handshake/.test(e.message));
  });

  test('cert auth: the client certificate is presented in the TLS handshake of the login', async () => {
    const pki = path.join(stateDir, 'pki');
    await baoCli(['auth', 'enable', 'cert']);
    writeFileSync(path.join(certDir, 'policy.hcl'), 'path "secret/data/tls/*" { capabilities = ["read"] }\n');
    await baoCli(['policy', 'write', 'tls-read', path.join(certDir, 'policy.hcl')]);
    await baoCli(['write', 'auth/cert/certs/tessera', `certificate=@${path.join(pki, 'ca.crt')}`, 'token_policies=tls-read']);
    const caPem = readFileSync(path.join(certDir, 'vault-ca.pem')).toString('base64');
    const rec = callRecorder();
    const c = await store(
      { server: addr, path: 'secret', caBundle: caPem, auth: { cert: { clientCert: { name: 'tls', key: 'tls.crt' }, secretRef: { name: 'tls', key: 'tls.key' } } } },
      inlineContext({ 'tls/tls.crt': readFileSync(path.join(pki, 'admin.crt'), 'utf8'), 'tls/tls.key': readFileSync(path.join(pki, 'admin.key'), 'utf8') }, rec),
    );
    assert.equal(text(await c.getValue({ key: 'tls/x' })), '{"a":"b"}');
    assert.equal(rec.count('Login'), 1);
    // a certificate Vault does not trust
    const selfSigned = readFileSync(path.join(certDir, 'vault-cert.pem'), 'utf8');
    const selfKey = readFileSync(path.join(certDir, 'vault-key.pem'), 'utf8');
    const bad = await store(
      { server: addr, path: 'secret', caBundle: caPem, auth: { cert: { clientCert: { name: 'tls', key: 'tls.crt' }, secretRef: { name: 'tls', key: 'tls.key' } } } },
      inlineContext({ 'tls/tls.crt': selfSigned, 'tls/tls.key': selfKey }),
    );
    await assert.rejects(bad.validate(), (e: unknown) => e instanceof ProviderError && e.kind === 'BadCredentials');
  });

  test('a sealed server is Unreachable, and the message says sealed', async () => {
    const caPem = readFileSync(path.join(certDir, 'vault-ca.pem')).toString('base64');
    const c = await store({ server: addr, path: 'secret', caBundle: caPem, auth: tokenAuth() }, inlineContext({ 'vault-token/token': root }));
    await baoCli(['operator', 'seal']);
    await assert.rejects(c.getValue({ key: 'tls/x' }), (e: unknown) => {
      assert.ok(e instanceof ProviderError, String(e));
      assert.equal(e.kind, 'Unreachable');
      assert.equal(e.retryable, true);
      assert.match(e.message, /sealed/);
      return true;
    });
    await assert.rejects(c.validate(), (e: unknown) => e instanceof ProviderError && e.kind === 'Unreachable' && /sealed/.test(e.message));
  });
});

/** True once `jwt`'s ServiceAccount may create TokenReviews (system:auth-delegator is in effect). */
async function tokenReviewAllowed(server: string, ca: Buffer, jwt: string): Promise<boolean> {
  const https = await import('node:https');
  const body = JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: jwt } });
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${server}/apis/authentication.k8s.io/v1/tokenreviews`,
      { method: 'POST', ca, headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' } },
      (res) => {
        res.resume();
        resolve(res.statusCode === 201);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The bao binary the peers use (test/peers/build.sh paths). */
function readBinPath(): string {
  baoBin ??= execFileSync('bash', [path.join(repoRoot, 'test/peers/build.sh'), 'paths'], { encoding: 'utf8' })
    .split('\n')
    .find((l) => l.startsWith('BAO_BIN='))
    ?.slice('BAO_BIN='.length);
  if (!baoBin) throw new Error('test/peers/build.sh paths printed no BAO_BIN');
  return baoBin;
}
let baoBin: string | undefined;

function countBy(calls: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of calls) out[c] = (out[c] ?? 0) + 1;
  return out;
}
