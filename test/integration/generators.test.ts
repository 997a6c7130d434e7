// Generators (generators.external-secrets.io) feeding ExternalSecrets through the operator process
// under its own ServiceAccount and shipped RBAC: Password, UUID, Fake, SSHKey, MFA, a
// ClusterGenerator, STSSessionToken against moto, VaultDynamicSecret against OpenBao's PKI engine,
// Webhook against an HTTP server of this test, generated values through a template, a fresh
// password on each refresh, an unsupported kind reported by name, and ESO's docs objects admitted.
// Every store here names this file's --controller-class, so the operators of other tests leave
// these ExternalSecrets alone.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseDocument } from 'yaml';
import type { KubeClient } from '../../src/kube/client.ts';
import { core, type KubeObject, type ResourceType, type Secret } from '../../src/kube/types.ts';
import { externalSecrets, secretStores } from '../../src/controllers/resources.ts';
import { generatorResource } from '../../src/controllers/generators.ts';
import { GENERATORS_API_VERSION, type GeneratorKind } from '../../src/api/constants.ts';
import type { PeersEnv } from '../peers/index.ts';
import { adminClient, decodeSecret, freshNamespace, peers, waitFor, waitReady } from './helpers.ts';
import { installTessera, startOperator, type Operator } from './operator.ts';

const run = Math.random().toString(36).slice(2, 7);
const controllerClass = `gen-${run}`;
let env: PeersEnv;
let admin: KubeClient;
let op: Operator;
let ns: string;

async function bao(method: string, p: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${env.VAULT_ADDR}/v1/${p}`, {
    method,
    headers: { 'x-vault-token': env.VAULT_TOKEN, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const t = await res.text();
  if (!res.ok) throw new Error(`bao ${method} ${p}: ${res.status} ${t}`);
  return t ? (JSON.parse(t) as Record<string, unknown>) : {};
}

async function generator(kind: GeneratorKind, name: string, spec: unknown, namespace: string | undefined = ns): Promise<void> {
  await admin.create(generatorResource(kind), {
    apiVersion: GENERATORS_API_VERSION, kind, metadata: { name, ...(namespace ? { namespace } : {}) }, spec,
  } as KubeObject);
}

/** An ExternalSecret of this file's store whose dataFrom runs the given generators. */
async function externalSecret(name: string, refs: Array<{ kind: string; name: string }>, extra: Record<string, unknown> = {}): Promise<void> {
  await admin.create(externalSecrets, {
    apiVersion: 'external-secrets.io/v1',
    kind: 'ExternalSecret',
    metadata: { name, namespace: ns },
    spec: {
      secretStoreRef: { name: 'gen' },
      refreshInterval: '1h',
      dataFrom: refs.map((r) => ({ sourceRef: { generatorRef: { apiVersion: GENERATORS_API_VERSION, ...r } } })),
      ...extra,
    },
  } as KubeObject);
}

async function synced(name: string): Promise<Record<string, string>> {
  await waitReady(admin, ns, name, 'True', /./, 60_000);
  return decodeSecret(await admin.get<Secret>(core.secrets, ns, name));
}

/** No generated value may show in the operator's logs, the namespace's events or any status. */
async function assertNowhere(values: string[]): Promise<void> {
  const events = await admin.list<KubeObject & { message?: string; note?: string }>(core.events, ns);
  const statuses = await admin.list<KubeObject & { status?: unknown }>(externalSecrets, ns);
  const haystacks = [op.logs.join('\n'), JSON.stringify(events.items), JSON.stringify(statuses.items.map((e) => e.status))];
  for (const v of values.filter((x) => x.length >= 6)) {
    for (const h of haystacks) assert.ok(!h.includes(v), 'a generated value leaked into logs, events or status');
  }
}

before(async () => {
  env = await peers(['etcd', 'kube-apiserver', 'kube-controller-manager', 'moto', 'bao']);
  admin = await adminClient();
  await installTessera(admin);
  for (const plural of ['passwords', 'clustergenerators', 'vaultdynamicsecrets', 'webhooks']) {
    await waitFor(`${plural} to be listable`, () => admin.request('GET', `/apis/generators.external-secrets.io/v1alpha1/${plural}?limit=1`).then(() => true, () => false));
  }
  op = await startOperator(admin, env, [`--controller-class=${controllerClass}`]);
  ns = await freshNamespace(admin, 'gen');
  await admin.create(secretStores, {
    apiVersion: 'external-secrets.io/v1', kind: 'SecretStore', metadata: { name: 'gen', namespace: ns },
    spec: { controller: controllerClass, provider: { fake: { data: [] } } },
  } as KubeObject);
});

describe('generators through the operator', () => {
  it('Password, UUID and Fake feed one Secret; the password follows its spec; nothing leaks', async () => {
    await generator('Password', 'pw', { length: 42, digits: 5, symbols: 5, symbolCharacters: '-_$@', noUpper: false, allowRepeat: true });
    await generator('UUID', 'id', {});
    await generator('Fake', 'fake', { data: { username: 'app' } });
    await externalSecret('basic', [{ kind: 'Password', name: 'pw' }, { kind: 'UUID', name: 'id' }, { kind: 'Fake', name: 'fake' }]);
    const data = await synced('basic');
    assert.deepEqual(Object.keys(data).sort(), ['password', 'username', 'uuid']);
    assert.equal(data['username'], 'app');
    assert.match(data['uuid']!, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const pw = data['password']!;
    assert.equal(pw.length, 42);
    assert.equal([...pw].filter((c) => /[0-9]/.test(c)).length, 5);
    assert.equal([...pw].filter((c) => '-_$@'.includes(c)).length, 5);
    await assertNowhere([pw, data['uuid']!]);
  });

  it('generated values feed a template, and rewrite renames generated keys', async () => {
    await generator('Password', 'db', { length: 20, symbols: 0, secretKeys: ['pw'] });
    await externalSecret('dsn', [{ kind: 'Password', name: 'db' }, { kind: 'UUID', name: 'id' }], {
      target: { template: { data: { dsn: 'postgres://app:{{ .pw }}@db/{{ .uuid }}' } } },
    });
    const data = await synced('dsn');
    assert.match(data['dsn']!, /^postgres:\/\/app:[A-Za-z0-9]{20}@db\/[0-9a-f-]{36}$/);
    await admin.create(externalSecrets, {
      apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret', metadata: { name: 'renamed', namespace: ns },
      spec: {
        secretStoreRef: { name: 'gen' },
        dataFrom: [{ sourceRef: { generatorRef: { kind: 'UUID', name: 'id' } }, rewrite: [{ regexp: { source: '^uuid$', target: 'request-id' } }] }],
      },
    } as KubeObject);
    assert.deepEqual(Object.keys(await synced('renamed')), ['request-id']);
  });

  it('a generator runs again on each refresh: a new password every refreshInterval', async () => {
    await generator('Password', 'rotating', { length: 16 });
    await externalSecret('rotating', [{ kind: 'Password', name: 'rotating' }], { refreshInterval: '2s' });
    const first = (await synced('rotating'))['password']!;
    const second = await waitFor('a new password after the refresh interval', async () => {
      const p = decodeSecret(await admin.get<Secret>(core.secrets, ns, 'rotating'))['password'];
      return p !== undefined && p !== first ? p : undefined;
    }, 30_000);
    assert.equal(second.length, 16);
  });

  it('SSHKey, MFA and a ClusterGenerator', async () => {
    await generator('SSHKey', 'ssh', { keyType: 'ed25519', comment: 'ci@tessera' });
    // RFC 6238's SHA-1 seed, base32; pinned to 1234567890 s the 8-digit code is 89005924.
    await admin.create(core.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'totp-seed', namespace: ns }, stringData: { seed: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ' } } as Secret);
    await generator('MFA', 'otp', { secret: { name: 'totp-seed', key: 'seed' }, length: 8, when: '2009-02-13T23:31:30Z' });
    const cluster = `gen-${run}-cluster`;
    await generator('ClusterGenerator', cluster, { kind: 'Password', generator: { passwordSpec: { length: 12, digits: 0, symbols: 0, noUpper: true } } }, undefined);
    await externalSecret('mixed', [{ kind: 'SSHKey', name: 'ssh' }, { kind: 'MFA', name: 'otp' }, { kind: 'ClusterGenerator', name: cluster }]);
    const data = await synced('mixed');
    await admin.delete(generatorResource('ClusterGenerator'), undefined, cluster);
    assert.equal(data['token'], '89005924');
    assert.equal(data['timeLeft'], '30');
    assert.match(data['password']!, /^[a-z]{12}$/);
    assert.match(data['publicKey']!, /^ssh-ed25519 \S+ ci@tessera\n$/);
    const file = `/tmp/tessera-gen-${run}`;
    execFileSync('sh', ['-c', `umask 077; cat > ${file}`], { input: data['privateKey'] });
    try {
      assert.equal(execFileSync('ssh-keygen', ['-y', '-f', file], { encoding: 'utf8' }).trim(), data['publicKey']!.trim());
    } finally {
      execFileSync('rm', ['-f', file]);
    }
  });

  it('STSSessionToken against moto', async () => {
    await admin.create(core.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'aws', namespace: ns }, stringData: { id: env.AWS_ACCESS_KEY_ID, secret: env.AWS_SECRET_ACCESS_KEY } } as Secret);
    await generator('STSSessionToken', 'sts', {
      region: env.AWS_REGION,
      auth: { secretRef: { accessKeyIDSecretRef: { name: 'aws', key: 'id' }, secretAccessKeySecretRef: { name: 'aws', key: 'secret' } } },
      requestParameters: { sessionDuration: 900 },
    });
    await externalSecret('sts', [{ kind: 'STSSessionToken', name: 'sts' }]);
    const data = await synced('sts');
    assert.deepEqual(Object.keys(data).sort(), ['access_key_id', 'expiration', 'secret_access_key', 'session_token']);
    assert.match(data['access_key_id']!, /^[A-Z0-9]{16,}$/);
    assert.ok(Number(data['expiration']) > Date.now() / 1000);
    await assertNowhere([data['secret_access_key']!, data['session_token']!]);
  });

  it('ECRAuthorizationToken against moto', async () => {
    await generator('ECRAuthorizationToken', 'ecr', {
      region: env.AWS_REGION,
      auth: { secretRef: { accessKeyIDSecretRef: { name: 'aws', key: 'id' }, secretAccessKeySecretRef: { name: 'aws', key: 'secret' } } },
    });
    await externalSecret('ecr', [{ kind: 'ECRAuthorizationToken', name: 'ecr' }], {
      target: { template: { type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': '{"auths":{"{{ .proxy_endpoint }}":{"username":"{{ .username }}","password":"{{ .password }}"}}}' } } },
    });
    await waitReady(admin, ns, 'ecr', 'True', /./, 60_000);
    const secret = await admin.get<Secret & { type?: string }>(core.secrets, ns, 'ecr');
    assert.equal(secret.type, 'kubernetes.io/dockerconfigjson');
    const auths = (JSON.parse(decodeSecret(secret)['.dockerconfigjson']!) as { auths: Record<string, { username: string; password: string }> }).auths;
    const [endpoint, creds] = Object.entries(auths)[0]!;
    assert.match(endpoint, /^https:\/\/\d+\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com$/);
    assert.equal(creds.username, 'AWS');
    assert.ok(creds.password.length > 0);
  });

  it('VaultDynamicSecret issues a certificate from OpenBao\'s PKI engine', async () => {
    const mount = `pki-gen-${run}`;
    await bao('POST', `sys/mounts/${mount}`, { type: 'pki', config: { max_lease_ttl: '24h' } });
    await bao('POST', `${mount}/root/generate/internal`, { common_name: 'tessera.test', ttl: '24h' });
    await bao('POST', `${mount}/roles/example`, { allowed_domains: ['tessera.test'], allow_subdomains: true, allow_localhost: true, allow_ip_sans: true, max_ttl: '1h' });
    await admin.create(core.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bao', namespace: ns }, stringData: { token: env.VAULT_TOKEN } } as Secret);
    await generator('VaultDynamicSecret', 'pki', {
      path: `/${mount}/issue/example`,
      method: 'POST',
      parameters: { common_name: 'localhost', ip_sans: '127.0.0.1' },
      resultType: 'Data',
      provider: { server: env.VAULT_ADDR, auth: { tokenSecretRef: { name: 'bao', key: 'token' } } },
    });
    await externalSecret('pki', [{ kind: 'VaultDynamicSecret', name: 'pki' }]);
    const data = await synced('pki');
    assert.match(data['certificate']!, /^-----BEGIN CERTIFICATE-----/);
    assert.match(data['private_key']!, /-----BEGIN (RSA |EC )?PRIVATE KEY-----/);
    assert.match(data['issuing_ca']!, /^-----BEGIN CERTIFICATE-----/);
    // Numbers and lists are written as Go's JSON, as ESO does.
    assert.match(data['expiration']!, /^\d+$/);
    assert.match(data['ca_chain']!, /^\["-----BEGIN CERTIFICATE-----/);
    await assertNowhere([data['private_key']!.split('\n')[1]!]);
  });

  it('Webhook calls a local server with a templated header from a labelled Secret', async () => {
    const seen: Array<{ auth: string | undefined; body: string }> = [];
    const server: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ auth: req.headers.authorization, body });
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ result: { token: `tok-${run}-${seen.length}`, ttl: 3600 } }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    after(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as AddressInfo).port;
    await admin.create(core.secrets, {
      apiVersion: 'v1', kind: 'Secret', metadata: { name: 'hook-creds', namespace: ns, labels: { 'external-secrets.io/type': 'webhook' } }, stringData: { apikey: `key-${run}` },
    } as Secret);
    await generator('Webhook', 'hook', {
      url: `http://127.0.0.1:${port}/issue`,
      method: 'POST',
      headers: { Authorization: 'Bearer {{ .creds.apikey }}' },
      body: '{"for":"tessera"}',
      result: { jsonPath: '$.result' },
      secrets: [{ name: 'creds', secretRef: { name: 'hook-creds', key: 'apikey' } }],
    });
    await externalSecret('hook', [{ kind: 'Webhook', name: 'hook' }]);
    const data = await synced('hook');
    assert.deepEqual(data, { token: `tok-${run}-1`, ttl: '3600' });
    assert.deepEqual(seen[0], { auth: `Bearer key-${run}`, body: '{"for":"tessera"}' });
    // An unlabelled Secret is refused by name, as ESO refuses it.
    await admin.create(core.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'plain', namespace: ns }, stringData: { apikey: 'x' } } as Secret);
    await generator('Webhook', 'hook-unlabelled', { url: `http://127.0.0.1:${port}/issue`, result: {}, secrets: [{ name: 'creds', secretRef: { name: 'plain', key: 'apikey' } }] });
    await externalSecret('hook-unlabelled', [{ kind: 'Webhook', name: 'hook-unlabelled' }]);
    const c = await waitReady(admin, ns, 'hook-unlabelled', 'False', /external-secrets\.io\/type=webhook/);
    assert.match(c.message!, /spec\.dataFrom\[0\]\.sourceRef\.generatorRef: Webhook "hook-unlabelled" spec\.secrets\[0\]\.secretRef/);
  });

  it('an unsupported kind is admitted and reported by name; a missing generator is named', async () => {
    await generator('GCRAccessToken', 'gcr', { auth: { workloadIdentity: { clusterLocation: 'x', clusterName: 'y', serviceAccountRef: { name: 'z' } } }, projectID: 'p' });
    await externalSecret('gcr', [{ kind: 'GCRAccessToken', name: 'gcr' }]);
    const c = await waitReady(admin, ns, 'gcr', 'False', /GCRAccessToken/);
    assert.equal(c.reason, 'SecretSyncedError');
    assert.match(c.message!, /generator kind GCRAccessToken is not supported by this build/);
    await externalSecret('missing', [{ kind: 'Password', name: 'nope' }]);
    await waitReady(admin, ns, 'missing', 'False', /Password "nope" in namespace .* not found/);
  });
});

describe("ESO's docs objects of generators", () => {
  it('every generator snippet of ESO 2.9 is admitted by the apiserver (dry run)', async () => {
    const text = readFileSync(new URL('../fixtures/eso-docs/generators.yaml', import.meta.url), 'utf8');
    // One object per document, each preceded by the docs file it comes from.
    const docs = text.split(/^---$/m).map((chunk) => ({ file: /^# from ESO 2\.9 (\S+)$/m.exec(chunk)?.[1] ?? '?', obj: parseDocument(chunk).toJS() as (KubeObject & { apiVersion: string; kind: string }) | null }));
    const files = new Set(docs.map((d) => d.file));
    assert.ok(files.size >= 30, `found ${files.size} snippets`);
    const docsNs = await freshNamespace(admin, 'gen-docs');
    let admitted = 0;
    const kinds = new Set<string>();
    for (const { file, obj } of docs) {
      if (!obj?.kind) continue;
      const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
      if (group !== 'generators.external-secrets.io' && group !== 'external-secrets.io') continue;
      const info = await admin.request<{ resources: Array<{ kind: string; name: string; namespaced: boolean }> }>('GET', `/apis/${group}/${version}`);
      const r = info.resources.find((x) => x.kind === obj.kind && !x.name.includes('/'));
      assert.ok(r, `${file}: ${obj.apiVersion} ${obj.kind} is not served`);
      const rt: ResourceType = { group: group!, version: version!, plural: r.name, kind: obj.kind, namespaced: r.namespaced };
      obj.metadata = { ...obj.metadata, ...(r.namespaced ? { namespace: docsNs } : {}) };
      await admin.create(rt, obj, { dryRun: true }).catch((e: Error) => assert.fail(`${file}: ${obj.kind} ${obj.metadata?.name}: ${e.message}`));
      admitted++;
      kinds.add(obj.kind);
    }
    assert.ok(admitted >= 40, `admitted ${admitted}`);
    for (const k of ['Password', 'UUID', 'Fake', 'SSHKey', 'MFA', 'ECRAuthorizationToken', 'STSSessionToken', 'VaultDynamicSecret', 'Webhook', 'ClusterGenerator', 'ACRAccessToken', 'GCRAccessToken', 'GithubAccessToken', 'QuayAccessToken', 'Grafana', 'CloudsmithAccessToken', 'GitlabDeployToken', 'ExternalSecret']) {
      assert.ok(kinds.has(k), `no docs object of kind ${k}`);
    }
  });
});
