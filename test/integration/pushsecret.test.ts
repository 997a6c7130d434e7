// PushSecrets and ClusterPushSecrets pushed by the operator process under its own ServiceAccount
// and shipped RBAC, to AWS Secrets Manager (moto) and Vault KV v2 (OpenBao): a round trip (push,
// change of the source Secret, deletion with deletionPolicy Delete and None), the refusal to
// touch a remote secret without ESO's managed-by mark, updatePolicy IfNotExists, a ReadOnly
// store, a ClusterPushSecret over two namespaces, and ESO's documentation examples admitted.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AddTagsToResourceCommand, GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeClient } from '../../src/kube/client.ts';
import { core, type KubeObject, type ResourceType, type Secret } from '../../src/kube/types.ts';
import { clusterPushSecrets, pushSecrets, secretStores } from '../../src/controllers/resources.ts';
import { applyManifests } from '../../src/kube/manifests.ts';
import { stateDir, type PeersEnv } from '../peers/index.ts';
import { adminClient, freshNamespace, onCleanup, peers, sleep, waitFor } from './helpers.ts';
import { installTessera, manifestsIn, startOperator, type Operator } from './operator.ts';

const run = Math.random().toString(36).slice(2, 7);
const controllerClass = `push-${run}`;
// A value that must never show up in status, events or the operator's log.
const PLANTED = `planted-${run}-value`;
let env: PeersEnv;
let admin: KubeClient;
let op: Operator;
let sm: SecretsManagerClient;
let ssm: SSMClient;

type Cond = { type: string; status: string; reason?: string; message?: string };
interface PSObj extends KubeObject {
  spec: Record<string, unknown>;
  status?: { conditions?: Cond[]; syncedPushSecrets?: Record<string, Record<string, unknown>>; provisionedNamespaces?: string[]; failedNamespaces?: Array<{ namespace: string; reason?: string }> };
}

const clusterRoles: ResourceType = { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterroles', kind: 'ClusterRole', namespaced: false };
const clusterRoleBindings: ResourceType = { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false };

async function bao(method: string, p: string, body?: unknown): Promise<{ status: number; body: Record<string, any> }> {
  const res = await fetch(`${env.VAULT_ADDR}/v1/${p}`, {
    method,
    headers: { 'x-vault-token': env.VAULT_TOKEN, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const t = await res.text();
  return { status: res.status, body: t ? JSON.parse(t) : {} };
}

async function smValue(name: string): Promise<string | undefined> {
  try {
    const out = await sm.send(new GetSecretValueCommand({ SecretId: name }));
    return out.SecretString ?? (out.SecretBinary ? Buffer.from(out.SecretBinary).toString('utf8') : undefined);
  } catch (e) {
    if ((e as { name?: string }).name === 'ResourceNotFoundException') return undefined;
    throw e;
  }
}

async function smGone(name: string): Promise<boolean> {
  try {
    const d = await sm.send(new DescribeSecretCommand({ SecretId: name }));
    return d.DeletedDate !== undefined;
  } catch (e) {
    if ((e as { name?: string }).name === 'ResourceNotFoundException') return true;
    throw e;
  }
}

async function readyOf(rt: ResourceType, ns: string | undefined, name: string): Promise<Cond | undefined> {
  const o = await admin.tryGet<PSObj>(rt, ns, name);
  return o?.status?.conditions?.find((c) => c.type === 'Ready');
}

function waitPushReady(ns: string, name: string, status: 'True' | 'False', match = /./, timeoutMs = 30_000): Promise<Cond> {
  return waitFor(`PushSecret ${ns}/${name} Ready=${status} ${match}`, async () => {
    const c = await readyOf(pushSecrets, ns, name);
    return c && c.status === status && match.test(c.message ?? '') ? c : undefined;
  }, timeoutMs);
}

async function secret(ns: string, name: string, data: Record<string, string>, labels?: Record<string, string>): Promise<void> {
  const body = { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns, ...(labels ? { labels } : {}) }, stringData: data } as Secret;
  const existing = await admin.tryGet<Secret>(core.secrets, ns, name);
  if (existing) await admin.update(core.secrets, { ...body, metadata: { ...existing.metadata } } as Secret);
  else await admin.create(core.secrets, body);
}

async function store(ns: string, name: string, provider: Record<string, unknown>): Promise<void> {
  await admin.create(secretStores, { apiVersion: 'external-secrets.io/v1', kind: 'SecretStore', metadata: { name, namespace: ns }, spec: { controller: controllerClass, provider } } as KubeObject);
}

function pushSecret(ns: string, name: string, spec: Record<string, unknown>): PSObj {
  return { apiVersion: 'external-secrets.io/v1alpha1', kind: 'PushSecret', metadata: { name, namespace: ns }, spec };
}

const awsProvider = () => ({ aws: { service: 'SecretsManager', region: env.AWS_REGION, secretsManager: { forceDeleteWithoutRecovery: true } } });
const vaultProvider = () => ({ vault: { server: env.VAULT_ADDR, path: 'secret', version: 'v2', auth: { tokenSecretRef: { name: 'vault-token', key: 'token' } } } });

/** Every status and event of the test namespaces, to check no value leaked. */
async function assertNoLeak(ns: string): Promise<void> {
  const events = await admin.list<KubeObject & { message?: string }>(core.events, ns);
  const list = await admin.list<PSObj>(pushSecrets, ns);
  const text = JSON.stringify(events.items.map((e) => e.message)) + JSON.stringify(list.items.map((p) => p.status));
  assert.ok(!text.includes(PLANTED), 'a pushed value appears in an event or a status');
  assert.ok(!op.logs.join('\n').includes(PLANTED), 'a pushed value appears in the operator log');
}

before(async () => {
  env = await peers(['etcd', 'kube-apiserver', 'kube-controller-manager', 'moto', 'bao']);
  admin = await adminClient();
  sm = new SecretsManagerClient({ region: env.AWS_REGION, endpoint: env.AWS_ENDPOINT_URL, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  ssm = new SSMClient({ region: env.AWS_REGION, endpoint: env.AWS_ENDPOINT_URL, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  onCleanup(() => sm.destroy());
  onCleanup(() => ssm.destroy());
  await installTessera(admin);
  await waitFor('pushsecrets to be listable', () => admin.request('GET', '/apis/external-secrets.io/v1alpha1/pushsecrets?limit=1').then(() => true, () => false));
  await waitFor('clusterpushsecrets to be listable', () => admin.request('GET', '/apis/external-secrets.io/v1alpha1/clusterpushsecrets?limit=1').then(() => true, () => false));
  // The shipped ClusterRole, also bound under a name of this run: other branches' tests install
  // their own tessera-controller role on the shared apiserver, which may lack the PushSecret rules.
  const role = manifestsIn('deploy/rbac').find((o) => o.kind === 'ClusterRole')!;
  const roleName = `tessera-controller-push-${run}`;
  await applyManifests(admin, [
    { ...role, metadata: { name: roleName } },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: roleName }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName }, subjects: [{ kind: 'ServiceAccount', name: 'tessera', namespace: 'tessera-system' }] },
  ] as KubeObject[]);
  onCleanup(async () => {
    await admin.delete(clusterRoleBindings, undefined, roleName).catch(() => undefined);
    await admin.delete(clusterRoles, undefined, roleName).catch(() => undefined);
  });
  op = await startOperator(admin, env, [`--controller-class=${controllerClass}`, '--concurrent=4']);
});

describe('PushSecret to AWS Secrets Manager', () => {
  it('pushes a key and the whole Secret, pushes a change at once, and deletes the remote secret with deletionPolicy Delete', async () => {
    const ns = await freshNamespace(admin, 'push-aws');
    await store(ns, 'aws', awsProvider());
    await secret(ns, 'db', { username: 'app', password: PLANTED });
    const one = `${run}/aws/password`;
    const all = `${run}/aws/all`;
    await admin.create(pushSecrets, pushSecret(ns, 'db', {
      refreshInterval: '1h',
      deletionPolicy: 'Delete',
      secretStoreRefs: [{ name: 'aws', kind: 'SecretStore' }],
      selector: { secret: { name: 'db' } },
      data: [
        { match: { secretKey: 'password', remoteRef: { remoteKey: one } } },
        { match: { remoteRef: { remoteKey: all } } },
      ],
    }));
    const c = await waitPushReady(ns, 'db', 'True');
    assert.equal(c.reason, 'Synced');
    assert.equal(c.message, 'PushSecret synced successfully');
    assert.equal(await smValue(one), PLANTED);
    assert.deepEqual(JSON.parse((await smValue(all))!), { password: PLANTED, username: 'app' });
    const tags = (await sm.send(new DescribeSecretCommand({ SecretId: one }))).Tags ?? [];
    assert.ok(tags.some((t) => t.Key === 'managed-by' && t.Value === 'external-secrets'), 'the pushed secret carries ESO\'s managed-by tag');
    const ps = await admin.get<PSObj>(pushSecrets, ns, 'db');
    assert.deepEqual(Object.keys(ps.status!.syncedPushSecrets!['SecretStore/aws']!).sort(), [all, one].sort());
    assert.ok((ps.metadata!.finalizers ?? []).includes('pushsecret.externalsecrets.io/finalizer'));

    // A change of the source Secret is pushed without waiting for refreshInterval (1h).
    await secret(ns, 'db', { username: 'app', password: `${PLANTED}-2` });
    await waitFor('the changed value in AWS', async () => (await smValue(one)) === `${PLANTED}-2`);

    // A key no longer pushed is deleted (it is ours), then everything with the PushSecret.
    const current = await admin.get<PSObj>(pushSecrets, ns, 'db');
    await admin.update(pushSecrets, { ...current, spec: { ...current.spec, data: [{ match: { secretKey: 'password', remoteRef: { remoteKey: one } } }] } });
    await waitFor('the dropped key deleted in AWS', () => smGone(all));
    assert.equal(await smValue(one), `${PLANTED}-2`);
    await admin.delete(pushSecrets, ns, 'db');
    await waitFor('the PushSecret gone', async () => (await admin.tryGet(pushSecrets, ns, 'db')) === undefined);
    assert.ok(await smGone(one), 'the remote secret is deleted with deletionPolicy Delete');
    await assertNoLeak(ns);
  });

  it('keeps the remote secret with deletionPolicy None', async () => {
    const ns = await freshNamespace(admin, 'push-none');
    await store(ns, 'aws', awsProvider());
    await secret(ns, 'src', { token: 'kept-value' });
    const key = `${run}/aws/kept`;
    await admin.create(pushSecrets, pushSecret(ns, 'keep', {
      secretStoreRefs: [{ name: 'aws' }],
      selector: { secret: { name: 'src' } },
      data: [{ match: { secretKey: 'token', remoteRef: { remoteKey: key } } }],
    }));
    await waitPushReady(ns, 'keep', 'True');
    assert.ok(!((await admin.get<PSObj>(pushSecrets, ns, 'keep')).metadata!.finalizers ?? []).includes('pushsecret.externalsecrets.io/finalizer'));
    await admin.delete(pushSecrets, ns, 'keep');
    await waitFor('the PushSecret gone', async () => (await admin.tryGet(pushSecrets, ns, 'keep')) === undefined);
    await sleep(1000);
    assert.equal(await smValue(key), 'kept-value');
  });

  it('refuses to overwrite a remote secret it does not own, and leaves it unchanged', async () => {
    const ns = await freshNamespace(admin, 'push-foreign');
    await store(ns, 'aws', awsProvider());
    const key = `${run}/aws/foreign`;
    await sm.send(new CreateSecretCommand({ Name: key, SecretString: 'theirs' }));
    await secret(ns, 'src', { token: PLANTED });
    await admin.create(pushSecrets, pushSecret(ns, 'foreign', {
      deletionPolicy: 'Delete',
      secretStoreRefs: [{ name: 'aws' }],
      selector: { secret: { name: 'src' } },
      data: [{ match: { secretKey: 'token', remoteRef: { remoteKey: key } } }],
    }));
    const c = await waitPushReady(ns, 'foreign', 'False', /not managed by external-secrets/);
    assert.equal(c.reason, 'Errored');
    assert.match(c.message!, new RegExp(`could not write remote ref ${key} to target secretstore SecretStore/aws`));
    assert.equal(await smValue(key), 'theirs');
    // Deleting it (deletionPolicy Delete) does not delete what is not ours either.
    await admin.delete(pushSecrets, ns, 'foreign');
    await waitFor('the PushSecret gone', async () => (await admin.tryGet(pushSecrets, ns, 'foreign')) === undefined);
    assert.equal(await smValue(key), 'theirs');
    await assertNoLeak(ns);
  });

  it('updatePolicy IfNotExists creates what is missing and leaves what exists', async () => {
    const ns = await freshNamespace(admin, 'push-ifne');
    await store(ns, 'aws', awsProvider());
    const existing = `${run}/aws/ifne-existing`;
    const missing = `${run}/aws/ifne-missing`;
    await sm.send(new CreateSecretCommand({ Name: existing, SecretString: 'old', Tags: [{ Key: 'managed-by', Value: 'external-secrets' }] }));
    await secret(ns, 'src', { a: 'new-a', b: 'new-b' });
    await admin.create(pushSecrets, pushSecret(ns, 'ifne', {
      updatePolicy: 'IfNotExists',
      secretStoreRefs: [{ name: 'aws' }],
      selector: { secret: { name: 'src' } },
      data: [
        { match: { secretKey: 'a', remoteRef: { remoteKey: existing } } },
        { match: { secretKey: 'b', remoteRef: { remoteKey: missing } } },
      ],
    }));
    const c = await waitPushReady(ns, 'ifne', 'True');
    assert.equal(c.message, 'PushSecret synced successfully. Existing secrets in providers unchanged.');
    assert.equal(await smValue(existing), 'old');
    assert.equal(await smValue(missing), 'new-b');
  });

  it('selector.secret.selector pushes only the Secrets its labels and expressions match', async () => {
    const ns = await freshNamespace(admin, 'push-sel');
    await store(ns, 'aws', awsProvider());
    const key = `${run}/aws/selected`;
    await secret(ns, 'chosen', { token: 'chosen-value' }, { push: 'yes', env: 'dev' });
    // Each of these fails one requirement; pushed too, it would collide on the same remote key.
    await secret(ns, 'prod', { token: 'prod-value' }, { push: 'yes', env: 'prod' });
    await secret(ns, 'unlabelled', { token: 'other-value' });
    await secret(ns, 'legacy', { token: 'legacy-value' }, { push: 'yes', env: 'dev', legacy: 'true' });
    await admin.create(pushSecrets, pushSecret(ns, 'sel', {
      secretStoreRefs: [{ name: 'aws' }],
      selector: { secret: { selector: { matchLabels: { push: 'yes' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['dev', 'test'] }, { key: 'legacy', operator: 'DoesNotExist' }] } } },
      data: [{ match: { secretKey: 'token', remoteRef: { remoteKey: key } } }],
    }));
    await waitPushReady(ns, 'sel', 'True');
    assert.equal(await smValue(key), 'chosen-value');
    const synced = (await admin.get<PSObj>(pushSecrets, ns, 'sel')).status?.syncedPushSecrets ?? {};
    assert.deepEqual(Object.keys(synced), ['SecretStore/aws']);
  });

  it('refuses a ReadOnly store with a clear status, writing nothing', async () => {
    const ns = await freshNamespace(admin, 'push-ro');
    // Conjur is ReadOnly in ESO 2.9 (and not in this build): the capability decides first.
    await store(ns, 'conjur', { conjur: { url: 'https://conjur.invalid' } });
    await secret(ns, 'src', { token: PLANTED });
    await admin.create(pushSecrets, pushSecret(ns, 'ro', {
      secretStoreRefs: [{ name: 'conjur' }],
      selector: { secret: { name: 'src' } },
      data: [{ match: { secretKey: 'token', remoteRef: { remoteKey: 'x' } } }],
    }));
    const c = await waitPushReady(ns, 'ro', 'False', /ReadOnly/);
    assert.equal(c.message, 'cannot push to SecretStore "conjur": its capabilities are ReadOnly (the provider cannot write); nothing was written');
  });
});

describe('PushSecret to AWS Parameter Store', () => {
  it('creates a tagged parameter, updates it, refuses a foreign one, deletes with Delete', async () => {
    const ns = await freshNamespace(admin, 'push-ssm');
    await store(ns, 'ssm', { aws: { service: 'ParameterStore', region: env.AWS_REGION } });
    await secret(ns, 'src', { a: 'one' });
    const name = `/${run}/ssm/a`;
    const foreign = `/${run}/ssm/foreign`;
    await ssm.send(new PutParameterCommand({ Name: foreign, Value: 'theirs', Type: 'String' }));
    await admin.create(pushSecrets, pushSecret(ns, 'ssm', {
      deletionPolicy: 'Delete',
      secretStoreRefs: [{ name: 'ssm' }],
      selector: { secret: { name: 'src' } },
      data: [{ match: { secretKey: 'a', remoteRef: { remoteKey: name } } }],
    }));
    await waitPushReady(ns, 'ssm', 'True');
    assert.equal((await ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Value, 'one');
    await secret(ns, 'src', { a: 'two' });
    await waitFor('the changed parameter', async () => (await ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Value === 'two');
    await admin.create(pushSecrets, pushSecret(ns, 'foreign', {
      secretStoreRefs: [{ name: 'ssm' }],
      selector: { secret: { name: 'src' } },
      data: [{ match: { secretKey: 'a', remoteRef: { remoteKey: foreign } } }],
    }));
    await waitPushReady(ns, 'foreign', 'False', /not managed by external-secrets/);
    assert.equal((await ssm.send(new GetParameterCommand({ Name: foreign }))).Parameter?.Value, 'theirs');
    await admin.delete(pushSecrets, ns, 'ssm');
    await waitFor('the parameter deleted', () => ssm.send(new GetParameterCommand({ Name: name })).then(() => false, (e: { name?: string }) => e.name === 'ParameterNotFound'));
  });
});

describe('PushSecret to the Kubernetes provider', () => {
  it('writes a key of a Secret in the remote namespace, and the whole Secret', async () => {
    const app = await freshNamespace(admin, 'push-k8s');
    const remote = await freshNamespace(admin, 'push-k8s-remote');
    await admin.create(core.serviceAccounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'writer', namespace: app } });
    await admin.create({ group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'roles', kind: 'Role', namespaced: true }, {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'write-secrets', namespace: remote },
      rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch', 'create', 'update', 'delete'] }],
    } as KubeObject);
    await admin.create({ group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'rolebindings', kind: 'RoleBinding', namespaced: true }, {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'writer', namespace: remote },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'write-secrets' },
      subjects: [{ kind: 'ServiceAccount', name: 'writer', namespace: app }],
    } as KubeObject);
    const caBundle = readFileSync(path.join(stateDir, 'pki', 'ca.crt')).toString('base64');
    await store(app, 'k8s', { kubernetes: { remoteNamespace: remote, server: { url: env.KUBE_APISERVER_URL, caBundle }, auth: { serviceAccount: { name: 'writer' } } } });
    await secret(app, 'src', { user: 'app', pass: 'p1' });
    await admin.create(pushSecrets, pushSecret(app, 'k8s', {
      deletionPolicy: 'Delete',
      secretStoreRefs: [{ name: 'k8s' }],
      selector: { secret: { name: 'src' } },
      data: [
        { match: { secretKey: 'pass', remoteRef: { remoteKey: 'copied', property: 'password' } } },
        { match: { remoteRef: { remoteKey: 'whole' } } },
      ],
    }));
    await waitPushReady(app, 'k8s', 'True', /./, 45_000);
    const decoded = (s: Secret | undefined) => Object.fromEntries(Object.entries(s?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
    assert.deepEqual(decoded(await admin.get<Secret>(core.secrets, remote, 'copied')), { password: 'p1' });
    assert.deepEqual(decoded(await admin.get<Secret>(core.secrets, remote, 'whole')), { user: 'app', pass: 'p1' });
    await admin.delete(pushSecrets, app, 'k8s');
    await waitFor('the remote Secrets deleted', async () => (await admin.tryGet(core.secrets, remote, 'copied')) === undefined && (await admin.tryGet(core.secrets, remote, 'whole')) === undefined);
  });
});

describe('PushSecret to Vault KV v2 (OpenBao)', () => {
  it('pushes properties and the whole Secret with the managed-by mark, follows a change, deletes with Delete, refuses a foreign secret', async () => {
    const ns = await freshNamespace(admin, 'push-vault');
    await secret(ns, 'vault-token', { token: env.VAULT_TOKEN });
    await store(ns, 'vault', vaultProvider());
    await secret(ns, 'db', { username: 'app', password: PLANTED });
    const props = `${run}/vault/props`;
    const whole = `${run}/vault/whole`;
    await admin.create(pushSecrets, pushSecret(ns, 'db', {
      deletionPolicy: 'Delete',
      secretStoreRefs: [{ name: 'vault' }],
      selector: { secret: { name: 'db' } },
      data: [
        { match: { secretKey: 'password', remoteRef: { remoteKey: props, property: 'pw' } } },
        { match: { secretKey: 'username', remoteRef: { remoteKey: props, property: 'user' } } },
        { match: { remoteRef: { remoteKey: whole } } },
      ],
    }));
    await waitPushReady(ns, 'db', 'True');
    assert.deepEqual((await bao('GET', `secret/data/${props}`)).body.data.data, { pw: PLANTED, user: 'app' });
    assert.deepEqual((await bao('GET', `secret/data/${whole}`)).body.data.data, { password: PLANTED, username: 'app' });
    assert.equal((await bao('GET', `secret/metadata/${props}`)).body.data.custom_metadata['managed-by'], 'external-secrets');

    await secret(ns, 'db', { username: 'app', password: `${PLANTED}-2` });
    await waitFor('the changed value in Vault', async () => (await bao('GET', `secret/data/${props}`)).body.data?.data?.pw === `${PLANTED}-2`);

    // A Vault secret written by someone else is refused and left as it is.
    const foreign = `${run}/vault/foreign`;
    await bao('POST', `secret/data/${foreign}`, { data: { owner: 'someone-else' } });
    await admin.create(pushSecrets, pushSecret(ns, 'foreign', {
      secretStoreRefs: [{ name: 'vault' }],
      selector: { secret: { name: 'db' } },
      data: [{ match: { secretKey: 'password', remoteRef: { remoteKey: foreign, property: 'pw' } } }],
    }));
    await waitPushReady(ns, 'foreign', 'False', /not managed by external-secrets/);
    assert.deepEqual((await bao('GET', `secret/data/${foreign}`)).body.data.data, { owner: 'someone-else' });

    await admin.delete(pushSecrets, ns, 'db');
    await waitFor('the PushSecret gone', async () => (await admin.tryGet(pushSecrets, ns, 'db')) === undefined);
    assert.equal((await bao('GET', `secret/data/${props}`)).status, 404);
    assert.equal((await bao('GET', `secret/metadata/${whole}`)).status, 404);
    await assertNoLeak(ns);
  });

  it('template (in the compute workers) and a dataTo bundle', async () => {
    const ns = await freshNamespace(admin, 'push-tpl');
    await secret(ns, 'vault-token', { token: env.VAULT_TOKEN });
    await store(ns, 'vault', vaultProvider());
    await secret(ns, 'src', { 'best-pokemon-src': 'Pikachu', DB_HOST: 'db.internal', DB_USER: 'app' });
    await admin.create(pushSecrets, pushSecret(ns, 'tpl', {
      secretStoreRefs: [{ name: 'vault' }],
      selector: { secret: { name: 'src' } },
      template: { data: { 'best-pokemon': '{{ index . "best-pokemon-src" | toString | upper }} is the really best!' } },
      data: [{ match: { secretKey: 'best-pokemon', remoteRef: { remoteKey: `${run}/tpl`, property: 'best' } } }],
      dataTo: [{ storeRef: { name: 'vault' }, remoteKey: `${run}/bundle`, match: { regexp: '^DB_' } }],
    }));
    await waitPushReady(ns, 'tpl', 'True');
    assert.deepEqual((await bao('GET', `secret/data/${run}/tpl`)).body.data.data, { best: 'PIKACHU is the really best!' });
    assert.deepEqual((await bao('GET', `secret/data/${run}/bundle`)).body.data.data, { DB_HOST: 'db.internal', DB_USER: 'app' });
    const ps = await admin.get<PSObj>(pushSecrets, ns, 'tpl');
    assert.deepEqual(Object.keys(ps.status!.syncedPushSecrets!['SecretStore/vault']!).sort(), [`${run}/bundle`, `${run}/tpl/best`]);
  });

  it('selector.generatorRef pushes generated values (a Password to Vault); a missing generator is named in status', async () => {
    const ns = await freshNamespace(admin, 'push-gen');
    await secret(ns, 'vault-token', { token: env.VAULT_TOKEN });
    await store(ns, 'vault', vaultProvider());
    const passwords = { group: 'generators.external-secrets.io', version: 'v1alpha1', plural: 'passwords', kind: 'Password', namespaced: true } as ResourceType;
    await admin.create(passwords, { apiVersion: 'generators.external-secrets.io/v1alpha1', kind: 'Password', metadata: { name: 'pw', namespace: ns }, spec: { length: 24, digits: 4, symbols: 0, noUpper: false, allowRepeat: true } } as any);
    await admin.create(pushSecrets, pushSecret(ns, 'gen', {
      secretStoreRefs: [{ name: 'vault' }],
      // IfNotExists: the generator runs at every sync (as ESO), the first value stays remote.
      updatePolicy: 'IfNotExists',
      refreshInterval: '1s',
      selector: { generatorRef: { apiVersion: 'generators.external-secrets.io/v1alpha1', kind: 'Password', name: 'pw' } },
      data: [{ match: { secretKey: 'password', remoteRef: { remoteKey: `${run}/gen`, property: 'pw' } } }],
    }));
    await waitPushReady(ns, 'gen', 'True');
    const first = (await bao('GET', `secret/data/${run}/gen`)).body.data.data.pw as string;
    assert.match(first, /^[A-Za-z0-9]{24}$/);
    assert.equal(first.replace(/[^0-9]/g, '').length, 4);
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal((await bao('GET', `secret/data/${run}/gen`)).body.data.data.pw, first, 'IfNotExists keeps the first generated value');
    const ps = await admin.get<PSObj>(pushSecrets, ns, 'gen');
    assert.ok(!JSON.stringify(ps).includes(first), 'the generated value is not in the PushSecret');

    await admin.create(pushSecrets, pushSecret(ns, 'gen-missing', {
      secretStoreRefs: [{ name: 'vault' }],
      selector: { generatorRef: { apiVersion: 'generators.external-secrets.io/v1alpha1', kind: 'Password', name: 'absent' } },
      data: [{ match: { secretKey: 'password', remoteRef: { remoteKey: `${run}/gen-missing` } } }],
    }));
    const c = await waitPushReady(ns, 'gen-missing', 'False', /absent/);
    assert.match(c.message ?? '', /^spec\.selector\.generatorRef: Password "absent" in namespace "[^"]+" not found/);
  });

  it('check-and-set: a store with checkAndSet.required writes with cas', async () => {
    const ns = await freshNamespace(admin, 'push-cas');
    const mount = `kv-cas-${run}`;
    await bao('POST', `sys/mounts/${mount}`, { type: 'kv', options: { version: '2' } });
    await bao('POST', `${mount}/config`, { cas_required: true });
    await secret(ns, 'vault-token', { token: env.VAULT_TOKEN });
    await store(ns, 'vault', { vault: { ...vaultProvider().vault, path: mount, checkAndSet: { required: true } } });
    await secret(ns, 'src', { v: 'one' });
    await admin.create(pushSecrets, pushSecret(ns, 'cas', {
      secretStoreRefs: [{ name: 'vault' }],
      selector: { secret: { name: 'src' } },
      data: [{ match: { secretKey: 'v', remoteRef: { remoteKey: 'k', property: 'v' } } }],
    }));
    await waitPushReady(ns, 'cas', 'True');
    await secret(ns, 'src', { v: 'two' });
    await waitFor('the second version', async () => (await bao('GET', `${mount}/data/k`)).body.data?.data?.v === 'two');
    assert.equal((await bao('GET', `${mount}/metadata/k`)).body.data.current_version, 2);
  });
});

describe('ClusterPushSecret', () => {
  it('creates a PushSecret in each matching namespace, and removes it when a namespace stops matching', async () => {
    const label = `push-${run}`;
    const a = await freshNamespace(admin, 'cps-a');
    const b = await freshNamespace(admin, 'cps-b');
    for (const ns of [a, b]) {
      await secret(ns, 'src', { token: `token-${ns}` });
      const n = await admin.get<KubeObject>(core.namespaces, undefined, ns);
      await admin.update(core.namespaces, { ...n, metadata: { ...n.metadata, labels: { ...n.metadata!.labels, [label]: 'yes' } } });
    }
    await admin.create({ ...secretStores, plural: 'clustersecretstores', kind: 'ClusterSecretStore', namespaced: false }, {
      apiVersion: 'external-secrets.io/v1', kind: 'ClusterSecretStore', metadata: { name: `fake-${run}` },
      spec: { controller: controllerClass, provider: { fake: { data: [] } } },
    } as KubeObject);
    onCleanup(() => admin.delete({ ...secretStores, plural: 'clustersecretstores', kind: 'ClusterSecretStore', namespaced: false }, undefined, `fake-${run}`).catch(() => undefined));
    const name = `cps-${run}`;
    await admin.create(clusterPushSecrets, {
      apiVersion: 'external-secrets.io/v1alpha1', kind: 'ClusterPushSecret', metadata: { name },
      spec: {
        namespaceSelectors: [{ matchLabels: { [label]: 'yes' } }],
        pushSecretName: 'pushed',
        pushSecretMetadata: { labels: { team: 'platform' } },
        pushSecretSpec: {
          secretStoreRefs: [{ name: `fake-${run}`, kind: 'ClusterSecretStore' }],
          selector: { secret: { name: 'src' } },
          data: [{ match: { secretKey: 'token', remoteRef: { remoteKey: 'token' } } }],
        },
      },
    } as KubeObject);
    onCleanup(() => admin.delete(clusterPushSecrets, undefined, name).catch(() => undefined));
    await waitFor('both namespaces provisioned', async () => {
      const c = await admin.tryGet<PSObj>(clusterPushSecrets, undefined, name);
      return JSON.stringify(c?.status?.provisionedNamespaces) === JSON.stringify([a, b].sort()) ? c : undefined;
    });
    for (const ns of [a, b]) {
      await waitPushReady(ns, 'pushed', 'True');
      const ps = await admin.get<PSObj>(pushSecrets, ns, 'pushed');
      assert.equal(ps.metadata!.labels?.team, 'platform');
      assert.equal(ps.metadata!.ownerReferences?.[0]?.kind, 'ClusterPushSecret');
    }
    assert.equal((await readyOf(clusterPushSecrets, undefined, name))?.status, 'True');
    // ESO's gauges of both kinds, as its dashboards read them.
    const metrics = await op.metrics();
    assert.match(metrics, new RegExp(`pushsecret_status_condition\\{name="pushed",namespace="${a}",condition="Ready",status="True"\\} 1`));
    assert.match(metrics, new RegExp(`pushsecret_status_condition\\{name="pushed",namespace="${a}",condition="Ready",status="False"\\} 0`));
    assert.match(metrics, new RegExp(`pushsecret_reconcile_duration\\{name="pushed",namespace="${a}"\\} [1-9]`));
    assert.match(metrics, new RegExp(`clusterpushsecret_status_condition\\{name="${name}",namespace="",condition="Ready",status="True"\\} 1`));
    assert.match(metrics, new RegExp(`clusterpushsecret_reconcile_duration\\{name="${name}",namespace=""\\} [1-9]`));

    const n = await admin.get<KubeObject>(core.namespaces, undefined, b);
    const labels = { ...n.metadata!.labels };
    delete labels[label];
    await admin.update(core.namespaces, { ...n, metadata: { ...n.metadata, labels } });
    await waitFor('the PushSecret removed from the namespace that stopped matching', async () => (await admin.tryGet(pushSecrets, b, 'pushed')) === undefined);
    await waitFor('the removed PushSecret\'s series gone', async () => !(await op.metrics()).includes(`pushsecret_status_condition{name="pushed",namespace="${b}"`));
    await waitFor('status to list only the namespace still matching', async () => {
      const c = await admin.get<PSObj>(clusterPushSecrets, undefined, name);
      return JSON.stringify(c.status?.provisionedNamespaces) === JSON.stringify([a]);
    });
    assert.ok(await admin.tryGet(pushSecrets, a, 'pushed'));

    // A PushSecret of that name that the ClusterPushSecret does not control is left alone.
    const c = await freshNamespace(admin, 'cps-c');
    await admin.create(pushSecrets, pushSecret(c, 'pushed', { secretStoreRefs: [{ name: 'none' }], selector: { secret: { name: 'mine' } } }));
    const nc = await admin.get<KubeObject>(core.namespaces, undefined, c);
    await admin.update(core.namespaces, { ...nc, metadata: { ...nc.metadata, labels: { ...nc.metadata!.labels, [label]: 'yes' } } });
    const failed = await waitFor('the namespace with a foreign PushSecret reported', async () => {
      const cur = await admin.get<PSObj>(clusterPushSecrets, undefined, name);
      return cur.status?.failedNamespaces?.length ? cur : undefined;
    });
    assert.deepEqual(failed.status?.failedNamespaces, [{ namespace: c, reason: 'push secret already exists in namespace' }]);
    assert.equal((await readyOf(clusterPushSecrets, undefined, name))?.message, 'one or more namespaces failed');
    const foreign = await admin.get<PSObj>(pushSecrets, c, 'pushed');
    assert.deepEqual(foreign.spec.selector, { secret: { name: 'mine' } });
  });
});

describe("ESO's documentation examples", () => {
  it('every PushSecret and ClusterPushSecret of the docs is admitted (dry run), but for fragments and placeholders ESO refuses too', async () => {
    const ns = await freshNamespace(admin, 'push-docs');
    const docs = parseAllDocuments(readFileSync(new URL('../fixtures/eso-docs/pushsecrets.yaml', import.meta.url), 'utf8')).map((d) => d.toJS() as PSObj);
    // ESO's own CRD refuses these too: partial snippets without the required secretStoreRefs and
    // selector, names written as placeholders ("<NAME_OF_KUBE_SECRET>", "SECRET_NAME"), and a
    // PushSecret written at v1beta1, a version ESO does not serve for it.
    const refusedByEsoToo = (o: PSObj) => {
      if (o.apiVersion !== 'external-secrets.io/v1alpha1') return true;
      const spec = o.spec as { secretStoreRefs?: unknown; selector?: { secret?: { name?: string } } } | undefined;
      if (o.kind === 'PushSecret' && (!spec?.secretStoreRefs || !spec.selector)) return true;
      const n = spec?.selector?.secret?.name;
      return n !== undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(n);
    };
    const applicable = docs.filter((o) => !refusedByEsoToo(o));
    assert.ok(applicable.length >= 50, `only ${applicable.length} examples`);
    const refused: string[] = [];
    for (const o of applicable) {
      const body = structuredClone(o) as PSObj;
      const cluster = o.kind === 'ClusterPushSecret';
      body.metadata = { ...body.metadata, ...(cluster ? {} : { namespace: ns }) };
      const path = cluster ? '/apis/external-secrets.io/v1alpha1/clusterpushsecrets' : `/apis/external-secrets.io/v1alpha1/namespaces/${ns}/pushsecrets`;
      await admin.request('POST', path, { query: { dryRun: 'All' }, body }).catch((e: Error) => refused.push(`${o.kind} ${o.metadata?.name}: ${e.message}`));
    }
    assert.deepEqual(refused, []);
  });
});
