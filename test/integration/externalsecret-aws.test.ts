// ExternalSecrets synced from AWS (moto) by the operator process running under its own
// ServiceAccount and shipped RBAC, against the real apiserver and controller-manager.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CreateSecretCommand, DeleteSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { KubeClient } from '../../src/kube/client.ts';
import { ApiError } from '../../src/kube/client.ts';
import { applyManifests, parseManifests } from '../../src/kube/manifests.ts';
import { core, type CoreEvent, type KubeObject, type Secret } from '../../src/kube/types.ts';
import { externalSecrets } from '../../src/controllers/resources.ts';
import { peersUp, stopPeer, type PeersEnv } from '../peers/index.ts';
import { adminClient, decodeSecret, freshNamespace, onCleanup, peers, sleep, uniqueName, waitFor, waitReady } from './helpers.ts';
import { installTessera, startOperator, type Operator } from './operator.ts';

interface ES extends KubeObject {
  spec: Record<string, unknown>;
  status?: { conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>; refreshTime?: string; syncedResourceVersion?: string; binding?: { name: string } };
}

// A value planted in AWS: it must never show up in logs, events, status or errors.
const PLANTED = `planted-${Math.random().toString(36).slice(2)}-value`;

const run = Math.random().toString(36).slice(2, 7);
let env: PeersEnv;
let admin: KubeClient;
let op: Operator;
let sm: SecretsManagerClient;

async function putSecret(name: string, value: string, region = 'us-west-2'): Promise<void> {
  const client = region === env.AWS_REGION ? sm : new SecretsManagerClient({ region, endpoint: env.AWS_ENDPOINT_URL, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  try {
    await client.send(new CreateSecretCommand({ Name: name, SecretString: value }));
  } catch {
    await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: value }));
  }
}

const decode = decodeSecret;

async function readyOf(ns: string, name: string) {
  const es = await admin.tryGet<ES>(externalSecrets, ns, name);
  return es?.status?.conditions?.find((c) => c.type === 'Ready');
}

const waitCondition = (ns: string, name: string, status: 'True' | 'False', match?: RegExp, timeoutMs = 30_000) => waitReady(admin, ns, name, status, match, timeoutMs);

function externalSecret(ns: string, name: string, spec: Record<string, unknown>, apiVersion = 'external-secrets.io/v1'): ES {
  return { apiVersion, kind: 'ExternalSecret', metadata: { name, namespace: ns }, spec };
}

async function createStore(ns: string, name: string, provider: Record<string, unknown>, controller?: string): Promise<void> {
  await admin.apply({ group: 'external-secrets.io', version: 'v1', plural: 'secretstores', kind: 'SecretStore', namespaced: true }, {
    apiVersion: 'external-secrets.io/v1',
    kind: 'SecretStore',
    metadata: { name, namespace: ns },
    spec: { provider, ...(controller ? { controller } : {}) },
  } as KubeObject);
}

const awsStore = { aws: { service: 'SecretsManager', region: 'us-west-2' } };

before(async () => {
  env = await peers(['etcd', 'kube-apiserver', 'kube-controller-manager', 'moto']);
  admin = await adminClient();
  sm = new SecretsManagerClient({ region: env.AWS_REGION, endpoint: env.AWS_ENDPOINT_URL, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  onCleanup(() => sm.destroy());
  await installTessera(admin);
  op = await startOperator(admin, env, ['--concurrent=4']);
});

describe('the platform team example, unchanged (v1beta1)', () => {
  const example = `apiVersion: external-secrets.io/v1beta1
kind: ClusterSecretStore
metadata:
  name: rhoaibu-external-store
spec:
  provider:
    aws:
      service: SecretsManager
      region: us-west-2
  conditions:
  - namespaces:
      - "cert-manager"
      - "openshift-config"
      - "rhoai-model-registries"
---
apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
metadata:
  name: registry-db-secrets
  namespace: rhoai-model-registries
spec:
  refreshInterval: 1h
  secretStoreRef:
    name: rhoaibu-external-store
    kind: ClusterSecretStore
  target:
    name: registry-db-secrets
    creationPolicy: Owner
  data:
    - secretKey: MYSQL_ROOT_PASSWORD
      remoteRef:
        key: model-registries-db-credentials
        property: database-password
    - secretKey: MYSQL_USER_NAME
      remoteRef:
        key: model-registries-db-credentials
        property: database-user
`;
  it('syncs the Secret and reports status as Argo CD reads it', async () => {
    await putSecret('model-registries-db-credentials', JSON.stringify({ 'database-password': `pw-${run}`, 'database-user': 'registry' }));
    await admin.apply(core.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'rhoai-model-registries' } });
    // Re-running against the same peers: start from a clean slate.
    await admin.delete(externalSecrets, 'rhoai-model-registries', 'registry-db-secrets').catch(() => undefined);
    await waitFor('old example ExternalSecret gone', async () => !(await admin.tryGet(externalSecrets, 'rhoai-model-registries', 'registry-db-secrets')));
    await admin.delete(core.secrets, 'rhoai-model-registries', 'registry-db-secrets').catch(() => undefined);
    await applyManifests(admin, parseManifests(example));
    const ready = await waitCondition('rhoai-model-registries', 'registry-db-secrets', 'True');
    assert.equal(ready.reason, 'SecretSynced');
    assert.equal(ready.message, 'secret synced', "ESO 2.9's Ready message, word for word");
    const secret = await admin.get<Secret>(core.secrets, 'rhoai-model-registries', 'registry-db-secrets');
    assert.deepEqual(decode(secret), { MYSQL_ROOT_PASSWORD: `pw-${run}`, MYSQL_USER_NAME: 'registry' });
    assert.equal(secret.metadata?.labels?.['reconcile.external-secrets.io/managed'], 'true');
    assert.ok(secret.metadata?.annotations?.['reconcile.external-secrets.io/data-hash']);
    const owner = secret.metadata?.ownerReferences?.[0];
    assert.equal(owner?.kind, 'ExternalSecret');
    assert.equal(owner?.controller, true);
    const es = await admin.get<ES>(externalSecrets, 'rhoai-model-registries', 'registry-db-secrets');
    assert.ok(es.status?.refreshTime);
    assert.ok(es.status?.syncedResourceVersion);
    assert.deepEqual(es.status?.binding, { name: 'registry-db-secrets' });
    // Written as v1beta1, read back as v1 and as v1beta1.
    assert.equal(es.apiVersion, 'external-secrets.io/v1');
    const beta = await admin.get<ES>({ ...externalSecrets, version: 'v1beta1' }, 'rhoai-model-registries', 'registry-db-secrets');
    assert.equal(beta.apiVersion, 'external-secrets.io/v1beta1');
    assert.deepEqual(beta.spec, es.spec);
    // The store reports Ready and its capabilities.
    const css = await admin.get<KubeObject & { status?: { capabilities?: string; conditions?: Array<{ type: string; status: string }> } }>(
      { group: 'external-secrets.io', version: 'v1', plural: 'clustersecretstores', kind: 'ClusterSecretStore', namespaced: false },
      undefined,
      'rhoaibu-external-store',
    );
    await waitFor('store Ready', async () => {
      const s = await admin.get<typeof css>({ group: 'external-secrets.io', version: 'v1', plural: 'clustersecretstores', kind: 'ClusterSecretStore', namespaced: false }, undefined, 'rhoaibu-external-store');
      return s.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' && s.status.capabilities === 'ReadWrite';
    });
    // A Created event on the ExternalSecret.
    await waitFor('Created event', async () =>
      (await admin.list<CoreEvent>(core.events, 'rhoai-model-registries')).items.some((e) => e.involvedObject.name === 'registry-db-secrets' && e.reason === 'Created' && e.message === 'secret created'),
    );
  });

  it('refuses an ExternalSecret in a namespace outside the store conditions, and says why', async () => {
    const ns = await freshNamespace(admin, 'outside');
    await admin.create(externalSecrets, externalSecret(ns, 'denied', {
      secretStoreRef: { name: 'rhoaibu-external-store', kind: 'ClusterSecretStore' },
      data: [{ secretKey: 'x', remoteRef: { key: 'model-registries-db-credentials', property: 'database-user' } }],
    }));
    const c = await waitCondition(ns, 'denied', 'False', /does not allow ExternalSecrets in namespace/);
    assert.equal(c.reason, 'SecretSyncedError');
    assert.equal(await admin.tryGet(core.secrets, ns, 'denied'), undefined, 'no data for a namespace that is not allowed');
  });
});

describe('sync behaviour and safety', () => {
  let ns: string;
  const key = `tessera-${run}-app`;
  before(async () => {
    ns = await freshNamespace(admin, 'sync');
    await createStore(ns, 'aws', awsStore);
    await putSecret(key, JSON.stringify({ user: 'app', password: PLANTED, nested: { port: 5432 } }));
  });

  it('reports a missing key and a missing property without touching anything', async () => {
    await admin.create(externalSecrets, externalSecret(ns, 'missing-key', { secretStoreRef: { name: 'aws' }, data: [{ secretKey: 'a', remoteRef: { key: `no-such-${run}` } }] }));
    await admin.create(externalSecrets, externalSecret(ns, 'missing-prop', { secretStoreRef: { name: 'aws' }, data: [{ secretKey: 'a', remoteRef: { key, property: 'nope' } }] }));
    const a = await waitCondition(ns, 'missing-key', 'False');
    assert.match(a.message!, /does not exist at provider/);
    const b = await waitCondition(ns, 'missing-prop', 'False');
    assert.match(b.message!, /property "nope" not found/);
    assert.equal(await admin.tryGet(core.secrets, ns, 'missing-key'), undefined);
    assert.equal(await admin.tryGet(core.secrets, ns, 'missing-prop'), undefined);
  });

  it('extracts nested properties, dataFrom extract, and restores a Secret edited or deleted by hand', async () => {
    await admin.create(externalSecrets, externalSecret(ns, 'app', {
      refreshInterval: '1h',
      secretStoreRef: { name: 'aws' },
      data: [{ secretKey: 'port', remoteRef: { key, property: 'nested.port' } }],
      dataFrom: [{ extract: { key } }],
    }));
    await waitCondition(ns, 'app', 'True');
    const s = await admin.get<Secret>(core.secrets, ns, 'app');
    assert.deepEqual(decode(s), { port: '5432', user: 'app', password: PLANTED, nested: '{"port":5432}' });
    await admin.patch(core.secrets, ns, 'app', 'merge', { data: { user: Buffer.from('tampered').toString('base64') } });
    await waitFor('edited Secret restored', async () => decode(await admin.get<Secret>(core.secrets, ns, 'app')).user === 'app');
    await admin.delete(core.secrets, ns, 'app');
    await waitFor('deleted Secret recreated', async () => decode(await admin.tryGet<Secret>(core.secrets, ns, 'app')).user === 'app');
  });

  it('leaves a Secret alone when another tool only adds an annotation to it', async () => {
    await admin.create(externalSecrets, externalSecret(ns, 'annotated', { refreshInterval: '1h', secretStoreRef: { name: 'aws' }, data: [{ secretKey: 'u', remoteRef: { key, property: 'user' } }] }));
    await waitCondition(ns, 'annotated', 'True');
    await sleep(1100); // refreshTime has whole seconds: a new sync would show
    const before = (await admin.get<ES>(externalSecrets, ns, 'annotated')).status!.refreshTime;
    await admin.patch(core.secrets, ns, 'annotated', 'merge', { metadata: { annotations: { 'argocd.argoproj.io/tracking-id': 'app:/Secret:ns/annotated' } } });
    await sleep(2500);
    assert.equal((await admin.get<ES>(externalSecrets, ns, 'annotated')).status!.refreshTime, before, 'no re-sync for a foreign annotation');
    const s = await admin.get<Secret>(core.secrets, ns, 'annotated');
    assert.equal(s.metadata?.annotations?.['argocd.argoproj.io/tracking-id'], 'app:/Secret:ns/annotated');
  });

  it('syncs at once on force-sync, and skips the write when nothing changed', async () => {
    await putSecret(key, JSON.stringify({ user: 'app2', password: PLANTED, nested: { port: 5432 } }));
    await admin.patch(externalSecrets, ns, 'app', 'merge', { metadata: { annotations: { 'force-sync': String(Date.now()) } } });
    await waitFor('new value after force-sync', async () => decode(await admin.get<Secret>(core.secrets, ns, 'app')).user === 'app2');
    // A periodic refresh that finds the same content does not write the Secret again.
    await admin.create(externalSecrets, externalSecret(ns, 'steady', { refreshInterval: '1s', secretStoreRef: { name: 'aws' }, data: [{ secretKey: 'u', remoteRef: { key, property: 'user' } }] }));
    await waitCondition(ns, 'steady', 'True');
    const first = await admin.get<Secret>(core.secrets, ns, 'steady');
    const t0 = (await admin.get<ES>(externalSecrets, ns, 'steady')).status!.refreshTime!;
    await waitFor('refreshes to happen', async () => (await admin.get<ES>(externalSecrets, ns, 'steady')).status!.refreshTime! > t0, 10_000);
    await sleep(1500);
    const later = await admin.get<Secret>(core.secrets, ns, 'steady');
    assert.equal(later.metadata?.resourceVersion, first.metadata?.resourceVersion, 'unchanged content is not rewritten');
  });

  it('never takes over an existing Secret it does not manage (creationPolicy Owner)', async () => {
    await admin.create(core.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'precious', namespace: ns }, data: { keep: Buffer.from('me').toString('base64') } } as Secret);
    await admin.create(externalSecrets, externalSecret(ns, 'precious', { secretStoreRef: { name: 'aws' }, data: [{ secretKey: 'user', remoteRef: { key, property: 'user' } }] }));
    const c = await waitCondition(ns, 'precious', 'False', /not managed by this ExternalSecret/);
    assert.equal(c.reason, 'SecretSyncedError');
    assert.deepEqual(decode(await admin.get<Secret>(core.secrets, ns, 'precious')), { keep: 'me' });
  });

  it('a second ExternalSecret targeting the same Secret gets an error; nothing is overwritten', async () => {
    await admin.create(externalSecrets, externalSecret(ns, 'first', { secretStoreRef: { name: 'aws' }, target: { name: 'shared' }, data: [{ secretKey: 'user', remoteRef: { key, property: 'user' } }] }));
    await waitCondition(ns, 'first', 'True');
    const before = await admin.get<Secret>(core.secrets, ns, 'shared');
    await admin.create(externalSecrets, externalSecret(ns, 'second', { secretStoreRef: { name: 'aws' }, target: { name: 'shared' }, data: [{ secretKey: 'other', remoteRef: { key, property: 'nested.port' } }] }));
    const c = await waitCondition(ns, 'second', 'False', /owned by ExternalSecret "first"/);
    assert.equal(c.reason, 'SecretSyncedError');
    const after = await admin.get<Secret>(core.secrets, ns, 'shared');
    assert.deepEqual(decode(after), decode(before));
    assert.equal(after.metadata?.resourceVersion, before.metadata?.resourceVersion);
  });

  it('removes target data only for a confirmed not-found with deletionPolicy Delete', async () => {
    const k1 = `tessera-${run}-del`;
    const k2 = `tessera-${run}-ret`;
    await putSecret(k1, 'v1');
    await putSecret(k2, 'v2');
    await admin.create(externalSecrets, externalSecret(ns, 'del', { refreshInterval: '1s', secretStoreRef: { name: 'aws' }, target: { deletionPolicy: 'Delete' }, data: [{ secretKey: 'v', remoteRef: { key: k1 } }] }));
    await admin.create(externalSecrets, externalSecret(ns, 'ret', { refreshInterval: '1s', secretStoreRef: { name: 'aws' }, target: { deletionPolicy: 'Retain' }, data: [{ secretKey: 'v', remoteRef: { key: k2 } }] }));
    await waitCondition(ns, 'del', 'True');
    await waitCondition(ns, 'ret', 'True');
    await sm.send(new DeleteSecretCommand({ SecretId: k1, ForceDeleteWithoutRecovery: true }));
    await sm.send(new DeleteSecretCommand({ SecretId: k2, ForceDeleteWithoutRecovery: true }));
    await waitFor('Secret deleted', async () => !(await admin.tryGet(core.secrets, ns, 'del')));
    // The status is written right after the delete.
    await waitFor('reason SecretDeleted', async () => (await readyOf(ns, 'del'))?.reason === 'SecretDeleted');
    assert.equal((await readyOf(ns, 'del'))?.message, 'secret deleted due to DeletionPolicy=Delete', "ESO 2.9's Ready message");
    // ESO's events for it: the skipped entry, then the delete.
    const eventsOf = async (name: string) => (await admin.list<CoreEvent>(core.events, ns)).items.filter((e) => e.involvedObject.name === name);
    await waitFor('MissingProviderSecret and Deleted events', async () => {
      const texts = (await eventsOf('del')).map((e) => `${e.reason}: ${e.message}`);
      return texts.includes(`MissingProviderSecret: secret does not exist at provider using spec.data[0] (key=${k1})`)
        && texts.includes('Deleted: secret deleted due to DeletionPolicy=Delete');
    });
    await waitCondition(ns, 'ret', 'False', /does not exist at provider/);
    assert.deepEqual(decode(await admin.get<Secret>(core.secrets, ns, 'ret')), { v: 'v2' }, 'Retain keeps the Secret');
  });

  it('keeps the Secret exactly as it was while the provider is down, says why, and recovers', async () => {
    const k = `tessera-${run}-outage`;
    await putSecret(k, 'before-outage');
    await putSecret(`${k}-json`, JSON.stringify({ extra: 'e1' }));
    // data and dataFrom both fail during the outage: neither failure may go unhandled.
    await admin.create(externalSecrets, externalSecret(ns, 'outage', { refreshInterval: '1s', secretStoreRef: { name: 'aws' }, data: [{ secretKey: 'v', remoteRef: { key: k } }], dataFrom: [{ extract: { key: `${k}-json` } }] }));
    await waitCondition(ns, 'outage', 'True');
    const before = await admin.get<Secret>(core.secrets, ns, 'outage');
    await stopPeer('moto');
    try {
      const c = await waitCondition(ns, 'outage', 'False', /could not get secret data from provider/, 60_000);
      assert.equal(c.reason, 'SecretSyncedError');
      const during = await admin.get<Secret>(core.secrets, ns, 'outage');
      assert.equal(during.metadata?.resourceVersion, before.metadata?.resourceVersion, 'the Secret is untouched during the outage');
    } finally {
      await peersUp(['moto']);
    }
    // moto keeps its state in memory: seed the value again after its restart.
    await putSecret(k, 'after-outage');
    await putSecret(`${k}-json`, JSON.stringify({ extra: 'e2' }));
    await waitFor('recovery', async () => decode(await admin.get<Secret>(core.secrets, ns, 'outage')).v === 'after-outage', 120_000);
    await waitCondition(ns, 'outage', 'True', /./, 30_000);
    assert.equal(op.child.exitCode, null, 'the controller survived the outage');
    assert.ok(!op.logs.some((l) => l.includes('unhandled promise rejection')), 'no unhandled rejection');
  });

  it('leaves ExternalSecrets of a store with another controller class alone', async () => {
    await createStore(ns, 'elsewhere', awsStore, 'another-class');
    await admin.create(externalSecrets, externalSecret(ns, 'not-mine', { secretStoreRef: { name: 'elsewhere' }, data: [{ secretKey: 'u', remoteRef: { key, property: 'user' } }] }));
    await sleep(3000);
    const es = await admin.get<ES>(externalSecrets, ns, 'not-mine');
    assert.equal(es.status?.conditions, undefined, 'no status written for another controller class');
    assert.equal(await admin.tryGet(core.secrets, ns, 'not-mine'), undefined);
  });

  it('garbage-collects an Owner Secret with its ExternalSecret and keeps an Orphan one', async () => {
    await putSecret(key, JSON.stringify({ user: 'app', password: PLANTED, nested: { port: 5432 } }));
    await admin.create(externalSecrets, externalSecret(ns, 'owned', { secretStoreRef: { name: 'aws' }, data: [{ secretKey: 'u', remoteRef: { key, property: 'user' } }] }));
    await admin.create(externalSecrets, externalSecret(ns, 'orphan', { secretStoreRef: { name: 'aws' }, target: { creationPolicy: 'Orphan' }, data: [{ secretKey: 'u', remoteRef: { key, property: 'user' } }] }));
    await waitCondition(ns, 'owned', 'True');
    await waitCondition(ns, 'orphan', 'True');
    await admin.delete(externalSecrets, ns, 'owned');
    await admin.delete(externalSecrets, ns, 'orphan');
    await waitFor('Owner Secret garbage-collected', async () => !(await admin.tryGet(core.secrets, ns, 'owned')), 60_000);
    await sleep(1000);
    assert.ok(await admin.tryGet(core.secrets, ns, 'orphan'), 'Orphan Secret kept');
  });
});

describe('Parameter Store and static credentials', () => {
  it('reads SSM parameters (SecureString decrypted) through a store with auth.secretRef', async () => {
    const ns = await freshNamespace(admin, 'ssm');
    const ssm = new SSMClient({ region: env.AWS_REGION, endpoint: env.AWS_ENDPOINT_URL, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    after(() => ssm.destroy());
    await ssm.send(new PutParameterCommand({ Name: `/tessera/${run}/db`, Value: 's3cr3t', Type: 'SecureString', Overwrite: true }));
    await admin.create(core.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'aws-creds', namespace: ns }, stringData: { id: 'testing', key: 'testing' } } as Secret);
    await createStore(ns, 'ssm', {
      aws: {
        service: 'ParameterStore',
        region: env.AWS_REGION,
        auth: { secretRef: { accessKeyIDSecretRef: { name: 'aws-creds', key: 'id' }, secretAccessKeySecretRef: { name: 'aws-creds', key: 'key' } } },
      },
    });
    await admin.create(externalSecrets, externalSecret(ns, 'db', { secretStoreRef: { name: 'ssm' }, data: [{ secretKey: 'password', remoteRef: { key: `/tessera/${run}/db` } }] }));
    await waitCondition(ns, 'db', 'True');
    assert.deepEqual(decode(await admin.get<Secret>(core.secrets, ns, 'db')), { password: 's3cr3t' });
  });

  it('reports missing store credentials as a clear error', async () => {
    const ns = await freshNamespace(admin, 'creds');
    await createStore(ns, 'broken', {
      aws: { service: 'SecretsManager', region: env.AWS_REGION, auth: { secretRef: { accessKeyIDSecretRef: { name: 'nope', key: 'id' }, secretAccessKeySecretRef: { name: 'nope', key: 'key' } } } },
    });
    await admin.create(externalSecrets, externalSecret(ns, 'x', { secretStoreRef: { name: 'broken' }, data: [{ secretKey: 'a', remoteRef: { key: 'anything' } }] }));
    await waitCondition(ns, 'x', 'False', /credentials secret .*nope not found/);
  });
});

describe('API validation by the apiserver', () => {
  it('refuses invalid ExternalSecrets with a message naming the field', async () => {
    const ns = await freshNamespace(admin, 'invalid');
    const refuse = async (spec: Record<string, unknown>, field: RegExp) => {
      await assert.rejects(admin.create(externalSecrets, externalSecret(ns, uniqueName('bad'), spec)), (e: unknown) => {
        assert.ok(e instanceof ApiError && e.code === 422, String(e));
        assert.match(e.message, field);
        return true;
      });
    };
    await refuse({ secretStoreRef: { name: 's' }, data: [{ secretKey: 'a', remoteRef: {} }] }, /spec\.data\[0\]\.remoteRef\.key/);
    await refuse({ secretStoreRef: { name: 's' }, target: { creationPolicy: 'Sometimes' }, data: [{ secretKey: 'a', remoteRef: { key: 'k' } }] }, /spec\.target\.creationPolicy/);
    await refuse({ secretStoreRef: { name: 's' }, refreshInterval: 'soon', data: [{ secretKey: 'a', remoteRef: { key: 'k' } }] }, /spec\.refreshInterval/);
  });
});

describe('secret values never leak', () => {
  it('the planted value appears in no log line, event or status', async () => {
    // Failures involving the planted value's secret: non-JSON property read, bad base64 decode.
    const ns = await freshNamespace(admin, 'leak');
    await createStore(ns, 'aws', awsStore);
    const k = `tessera-${run}-leak`;
    await putSecret(k, PLANTED);
    await admin.create(externalSecrets, externalSecret(ns, 'prop', { secretStoreRef: { name: 'aws' }, data: [{ secretKey: 'a', remoteRef: { key: k, property: 'x' } }] }));
    await admin.create(externalSecrets, externalSecret(ns, 'b64', { secretStoreRef: { name: 'aws' }, data: [{ secretKey: 'a', remoteRef: { key: k, decodingStrategy: 'Base64' } }] }));
    await admin.create(externalSecrets, externalSecret(ns, 'ok', { secretStoreRef: { name: 'aws' }, data: [{ secretKey: 'a', remoteRef: { key: k } }] }));
    await waitCondition(ns, 'prop', 'False');
    await waitCondition(ns, 'b64', 'False');
    await waitCondition(ns, 'ok', 'True');
    await sleep(1000);
    const haystacks: string[] = [...op.logs];
    const namespaces = (await admin.list<KubeObject>(core.namespaces, undefined)).items.map((n) => n.metadata!.name!);
    for (const n of namespaces) {
      for (const e of (await admin.list<CoreEvent>(core.events, n)).items) haystacks.push(JSON.stringify(e));
      for (const es of (await admin.list<ES>(externalSecrets, n)).items) haystacks.push(JSON.stringify(es.status ?? {}));
    }
    haystacks.push(await op.metrics());
    assert.ok(haystacks.length > 20);
    const leaks = haystacks.filter((h) => h.includes(PLANTED) || h.includes(Buffer.from(PLANTED).toString('base64')));
    assert.deepEqual(leaks, []);
  });
});
