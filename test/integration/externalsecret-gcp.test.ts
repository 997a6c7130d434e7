// ExternalSecrets synced from Google Cloud Secret Manager (the gcpsm peer, test/peers/go/gcpsm) by
// the operator process under its own ServiceAccount and shipped RBAC. Stores authenticate with a
// service-account key JSON: the operator signs a JWT with it and exchanges it at the emulator's
// OAuth token endpoint (Google's documented JWT-bearer grant); the emulator runs with
// -require-auth, so every read carries a token it issued. This file's operator has its own
// --controller-class and every store names it, so other operators on the shared apiserver leave
// these objects alone; secret ids carry a per-run id (the emulator keeps state between files).
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { KubeClient } from '../../src/kube/client.ts';
import { core, type CoreEvent, type KubeObject, type Secret } from '../../src/kube/types.ts';
import { externalSecrets } from '../../src/controllers/resources.ts';
import { gcpsmKeyFile, peersUp, stopPeer, type PeersEnv } from '../peers/index.ts';
import { gcpsmAdmin, type GcpsmAdmin } from '../peers/gcpsm-admin.ts';
import { adminClient, decodeSecret, freshNamespace, onCleanup, peers, sleep, waitFor, waitReady } from './helpers.ts';
import { installTessera, startOperator, type Operator } from './operator.ts';

interface ES extends KubeObject {
  spec: Record<string, unknown>;
  status?: { conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> };
}

const run = Math.random().toString(36).slice(2, 8);
const controllerClass = `tessera-gcp-${run}`;
const id = (name: string) => `t${run}-${name}`;
// A value planted in Secret Manager: it must never show up in logs, events or status.
const PLANTED = `planted-${Math.random().toString(36).slice(2)}-gcp`;

let env: PeersEnv;
let admin: KubeClient;
let op: Operator;
let gsm: GcpsmAdmin;
let ns: string;

const storesResource = { group: 'external-secrets.io', version: 'v1', plural: 'secretstores', kind: 'SecretStore', namespaced: true } as const;

async function createStore(namespace: string, name: string, gcpsm: Record<string, unknown>): Promise<void> {
  await admin.apply(storesResource, { apiVersion: 'external-secrets.io/v1', kind: 'SecretStore', metadata: { name, namespace }, spec: { controller: controllerClass, provider: { gcpsm } } } as KubeObject);
}

const keyAuth = (secret = 'gcp-key') => ({ secretRef: { secretAccessKeySecretRef: { name: secret, key: 'key.json' } } });

function externalSecret(namespace: string, name: string, spec: Record<string, unknown>): ES {
  return { apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret', metadata: { name, namespace }, spec: { refreshInterval: '1h', ...spec } };
}

/** The sum of a counter's series whose labels match. */
function sumOf(text: string, name: string, match: Record<string, string | RegExp> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(match).every(([k, v]) => (typeof v === 'string' ? labels[k] === v : v.test(labels[k] ?? '')))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

const calls = async (match: Record<string, string | RegExp>) => sumOf(await op.metrics(), 'externalsecret_provider_api_calls_count', { provider: 'GCP/SecretManager', ...match });

before(async () => {
  env = await peers(['etcd', 'kube-apiserver', 'kube-controller-manager', 'gcpsm']);
  admin = await adminClient();
  gsm = gcpsmAdmin();
  onCleanup(() => gsm.close());
  await installTessera(admin);
  op = await startOperator(admin, env, [`--controller-class=${controllerClass}`, '--concurrent=4']);
  ns = await freshNamespace(admin, 'gcp');
  await admin.create(core.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'gcp-key', namespace: ns }, stringData: { 'key.json': readFileSync(gcpsmKeyFile(), 'utf8') } } as Secret);
  await createStore(ns, 'gcp', { projectID: gsm.project, auth: keyAuth() });
});

describe('reading Secret Manager', () => {
  it('reads a key, a version, a property and the metadata (labels and annotations) as ESO returns them', async () => {
    await gsm.put(id('db'), JSON.stringify({ user: 'app', password: PLANTED }), { labels: { team: 'payments', env: 'prod' }, annotations: { owner: 'a<b' } });
    await gsm.put(id('db'), JSON.stringify({ user: 'app2', password: PLANTED }));
    await admin.create(externalSecrets, externalSecret(ns, 'read', {
      secretStoreRef: { name: 'gcp' },
      data: [
        { secretKey: 'latest-user', remoteRef: { key: id('db'), property: 'user' } },
        { secretKey: 'v1-user', remoteRef: { key: id('db'), version: '1', property: 'user' } },
        { secretKey: 'whole', remoteRef: { key: id('db'), version: 'latest' } },
        { secretKey: 'team', remoteRef: { key: id('db'), metadataPolicy: 'Fetch', property: 'labels.team' } },
        { secretKey: 'labels', remoteRef: { key: id('db'), metadataPolicy: 'Fetch', property: 'labels' } },
        { secretKey: 'metadata', remoteRef: { key: id('db'), metadataPolicy: 'Fetch' } },
      ],
    }));
    const ready = await waitReady(admin, ns, 'read', 'True');
    assert.equal(ready.reason, 'SecretSynced');
    const s = decodeSecret(await admin.get<Secret>(core.secrets, ns, 'read'));
    assert.equal(s['latest-user'], 'app2');
    assert.equal(s['v1-user'], 'app');
    assert.deepEqual(JSON.parse(s.whole!), { user: 'app2', password: PLANTED });
    assert.equal(s.team, 'payments');
    assert.equal(s.labels, '{"env":"prod","team":"payments"}');
    // Go's json.Marshal: sorted keys, HTML characters escaped.
    assert.equal(s.metadata, '{"annotations":{"owner":"a\\u003cb"},"labels":{"env":"prod","team":"payments"}}');
  });

  it('finds secrets by name regexp and by labels, and extracts a JSON secret', async () => {
    await gsm.put(id('find-a'), 'A', { labels: { app: `l${run}` } });
    await gsm.put(id('find-b'), 'B', { labels: { app: `l${run}`, tier: 'db' } });
    await gsm.put(id('other'), 'O', { labels: { app: 'nope' } });
    await gsm.put(id('json'), JSON.stringify({ host: 'db.internal', port: 5432 }));
    await admin.create(externalSecrets, externalSecret(ns, 'find-name', { secretStoreRef: { name: 'gcp' }, dataFrom: [{ find: { name: { regexp: `^t${run}-find-` } } }] }));
    await admin.create(externalSecrets, externalSecret(ns, 'find-tags', { secretStoreRef: { name: 'gcp' }, dataFrom: [{ find: { tags: { app: `l${run}`, tier: 'db' } } }] }));
    await admin.create(externalSecrets, externalSecret(ns, 'extract', { secretStoreRef: { name: 'gcp' }, dataFrom: [{ extract: { key: id('json') } }] }));
    await waitReady(admin, ns, 'find-name', 'True');
    await waitReady(admin, ns, 'find-tags', 'True');
    await waitReady(admin, ns, 'extract', 'True');
    assert.deepEqual(decodeSecret(await admin.get<Secret>(core.secrets, ns, 'find-name')), { [id('find-a')]: 'A', [id('find-b')]: 'B' });
    assert.deepEqual(decodeSecret(await admin.get<Secret>(core.secrets, ns, 'find-tags')), { [id('find-b')]: 'B' });
    assert.deepEqual(decodeSecret(await admin.get<Secret>(core.secrets, ns, 'extract')), { host: 'db.internal', port: '5432' });
  });

  it('reads regional secrets through location, and LatestOrFetch skips a disabled latest version', async () => {
    await gsm.put(id('regional'), 'in-europe', { location: 'europe-west1' });
    await createStore(ns, 'gcp-eu', { projectID: gsm.project, location: 'europe-west1', auth: keyAuth() });
    await gsm.put(id('rolled'), 'good');
    const bad = await gsm.put(id('rolled'), 'bad');
    await gsm.setVersionState(id('rolled'), bad, 'disable');
    await createStore(ns, 'gcp-fetch', { projectID: gsm.project, secretVersionSelectionPolicy: 'LatestOrFetch', auth: keyAuth() });
    await admin.create(externalSecrets, externalSecret(ns, 'regional', { secretStoreRef: { name: 'gcp-eu' }, data: [{ secretKey: 'v', remoteRef: { key: id('regional') } }] }));
    await admin.create(externalSecrets, externalSecret(ns, 'fetch', { secretStoreRef: { name: 'gcp-fetch' }, data: [{ secretKey: 'v', remoteRef: { key: id('rolled') } }] }));
    await admin.create(externalSecrets, externalSecret(ns, 'fail', { secretStoreRef: { name: 'gcp' }, data: [{ secretKey: 'v', remoteRef: { key: id('rolled') } }] }));
    await waitReady(admin, ns, 'regional', 'True');
    await waitReady(admin, ns, 'fetch', 'True');
    assert.deepEqual(decodeSecret(await admin.get<Secret>(core.secrets, ns, 'regional')), { v: 'in-europe' });
    assert.deepEqual(decodeSecret(await admin.get<Secret>(core.secrets, ns, 'fetch')), { v: 'good' });
    const c = await waitReady(admin, ns, 'fail', 'False', /DISABLED state/);
    assert.equal(c.reason, 'SecretSyncedError');
    assert.equal(await admin.tryGet(core.secrets, ns, 'fail'), undefined);
  });
});

describe('failures', () => {
  it('a missing secret: Delete removes the Secret, Retain keeps it, Merge drops only that key', async () => {
    for (const k of ['del', 'ret', 'merge', 'kept']) await gsm.put(id(k), `${k}-value`);
    const one = (key: string) => [{ secretKey: 'v', remoteRef: { key: id(key) } }];
    await admin.create(externalSecrets, externalSecret(ns, 'del', { refreshInterval: '1s', secretStoreRef: { name: 'gcp' }, target: { deletionPolicy: 'Delete' }, data: one('del') }));
    await admin.create(externalSecrets, externalSecret(ns, 'ret', { refreshInterval: '1s', secretStoreRef: { name: 'gcp' }, target: { deletionPolicy: 'Retain' }, data: one('ret') }));
    await admin.create(externalSecrets, externalSecret(ns, 'merge', {
      refreshInterval: '1s', secretStoreRef: { name: 'gcp' }, target: { deletionPolicy: 'Merge' },
      data: [...one('merge'), { secretKey: 'w', remoteRef: { key: id('kept') } }],
    }));
    for (const n of ['del', 'ret', 'merge']) await waitReady(admin, ns, n, 'True');
    for (const k of ['del', 'ret', 'merge']) await gsm.remove(id(k));
    await waitFor('Secret deleted (Delete)', async () => !(await admin.tryGet(core.secrets, ns, 'del')));
    await waitFor('reason SecretDeleted', async () => (await admin.get<ES>(externalSecrets, ns, 'del')).status?.conditions?.find((c) => c.type === 'Ready')?.reason === 'SecretDeleted');
    await waitReady(admin, ns, 'ret', 'False', /does not exist at provider/);
    assert.deepEqual(decodeSecret(await admin.get<Secret>(core.secrets, ns, 'ret')), { v: 'ret-value' }, 'Retain keeps the Secret as it was');
    await waitFor('Merge dropped the missing key', async () => {
      const d = decodeSecret(await admin.tryGet<Secret>(core.secrets, ns, 'merge'));
      return d.w === 'kept-value' && !('v' in d);
    });
    const events = (await admin.list<CoreEvent>(core.events, ns)).items.filter((e) => e.involvedObject.name === 'merge').map((e) => e.reason);
    assert.ok(events.includes('MissingProviderSecret'), events.join(','));
  });

  it('refuses a key the token endpoint does not accept: a clear status, nothing written', async () => {
    // A well-formed key JSON for the same account, signed with another private key.
    const real = JSON.parse(readFileSync(gcpsmKeyFile(), 'utf8')) as Record<string, string>;
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await admin.create(core.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'wrong-key', namespace: ns }, stringData: { 'key.json': JSON.stringify({ ...real, private_key: other }) } } as Secret);
    await admin.create(core.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'not-a-key', namespace: ns }, stringData: { 'key.json': '{"type":"authorized_user"}' } } as Secret);
    await createStore(ns, 'wrong', { projectID: gsm.project, auth: keyAuth('wrong-key') });
    await createStore(ns, 'garbled', { projectID: gsm.project, auth: keyAuth('not-a-key') });
    await gsm.put(id('guarded'), PLANTED);
    await admin.create(externalSecrets, externalSecret(ns, 'wrong', { secretStoreRef: { name: 'wrong' }, data: [{ secretKey: 'v', remoteRef: { key: id('guarded') } }] }));
    await admin.create(externalSecrets, externalSecret(ns, 'garbled', { secretStoreRef: { name: 'garbled' }, data: [{ secretKey: 'v', remoteRef: { key: id('guarded') } }] }));
    const c = await waitReady(admin, ns, 'wrong', 'False', /invalid_grant: Invalid JWT Signature/);
    assert.equal(c.reason, 'SecretSyncedError');
    await waitReady(admin, ns, 'garbled', 'False', /not a service-account key JSON/);
    assert.equal(await admin.tryGet(core.secrets, ns, 'wrong'), undefined);
    assert.equal(await admin.tryGet(core.secrets, ns, 'garbled'), undefined);
    const store = await admin.get<KubeObject & { status?: { conditions?: Array<{ type: string; status: string; message?: string }> } }>(storesResource, ns, 'wrong');
    assert.notEqual(store.status?.conditions?.find((x) => x.type === 'Ready')?.status, 'True', 'the store with a refused key is not Ready');
  });

  it('keeps the Secret exactly as it was while the emulator is down, says why, and recovers', async () => {
    await gsm.put(id('outage'), 'before-outage');
    await admin.create(externalSecrets, externalSecret(ns, 'outage', { refreshInterval: '1s', secretStoreRef: { name: 'gcp' }, data: [{ secretKey: 'v', remoteRef: { key: id('outage') } }] }));
    await waitReady(admin, ns, 'outage', 'True');
    const before = await admin.get<Secret>(core.secrets, ns, 'outage');
    await stopPeer('gcpsm');
    try {
      const c = await waitReady(admin, ns, 'outage', 'False', /could not get secret data from provider/, 60_000);
      assert.equal(c.reason, 'SecretSyncedError');
      const during = await admin.get<Secret>(core.secrets, ns, 'outage');
      assert.equal(during.metadata?.resourceVersion, before.metadata?.resourceVersion, 'the Secret is untouched during the outage');
    } finally {
      await peersUp(['gcpsm']);
    }
    // The emulator keeps state (and the tokens it issued) in memory: seed again; the operator's
    // cached token is refused once (UNAUTHENTICATED), dropped and fetched anew.
    await gsm.put(id('outage'), 'after-outage');
    await waitFor('recovery', async () => decodeSecret(await admin.get<Secret>(core.secrets, ns, 'outage')).v === 'after-outage', 60_000);
    await waitReady(admin, ns, 'outage', 'True');
    assert.equal(op.child.exitCode, null, 'the controller survived the outage');
  });
});

describe('provider calls', () => {
  it('counts calls as ESO names them, and reads a key once for many ExternalSecrets', async () => {
    await createStore(ns, 'shared', { projectID: gsm.project, auth: keyAuth() });
    await gsm.put(id('shared'), JSON.stringify({ a: '1', b: '2' }));
    const store = /shared/;
    const before = await calls({ store, call: 'AccessSecretVersion' });
    const names = ['s1', 's2', 's3', 's4', 's5', 's6'];
    await Promise.all(names.map((n, i) => admin.create(externalSecrets, externalSecret(ns, n, {
      secretStoreRef: { name: 'shared' }, data: [{ secretKey: 'v', remoteRef: { key: id('shared'), property: i % 2 ? 'a' : 'b' } }],
    }))));
    for (const n of names) await waitReady(admin, ns, n, 'True');
    await sleep(1000);
    assert.equal(await calls({ store, call: 'AccessSecretVersion' }) - before, 1, 'one AccessSecretVersion for six ExternalSecrets of one key');
    assert.ok(await calls({ call: 'AccessSecretVersion', status: 'success' }) > 0);
    assert.ok(await calls({ call: 'AccessSecretVersion', status: 'error' }) > 0, 'not-found reads are counted as errors');
    assert.ok(await calls({ call: 'ListSecrets', status: 'success' }) > 0);
    assert.ok(await calls({ call: 'GetSecret', status: 'success' }) > 0);
  });

  it('the planted value appears in no log line, event or status', async () => {
    const haystacks: string[] = [...op.logs];
    for (const e of (await admin.list<CoreEvent>(core.events, ns)).items) haystacks.push(JSON.stringify(e));
    for (const es of (await admin.list<ES>(externalSecrets, ns)).items) haystacks.push(JSON.stringify(es.status ?? {}));
    haystacks.push(await op.metrics());
    const leaks = haystacks.filter((h) => h.includes(PLANTED) || h.includes(Buffer.from(PLANTED).toString('base64')));
    assert.deepEqual(leaks, []);
  });
});
