// Switch-over from a running ESO 2.9 (issue 11, part 1), without an ESO binary: the objects are
// built exactly as ESO 2.9 leaves them (test/fixtures/eso.ts: Secrets with ESO's labels,
// annotations, owner references, data-hash and field manager; ExternalSecrets with ESO's
// finalizer and synced status), then Tessera starts. Every Secret must keep its resourceVersion
// (zero writes) and every ExternalSecret stay Ready; a changed remote value is then written as
// usual, and what Tessera writes is what ESO takes as valid when switching back.
// The store's controller class isolates this namespace from operators other test files run, and
// --namespace keeps this operator to it.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeClient } from '../../src/kube/client.ts';
import { core, type KubeObject, type Secret } from '../../src/kube/types.ts';
import { externalSecrets, secretStores } from '../../src/controllers/resources.ts';
import { ANNOTATION_DATA_HASH, LABEL_CREATED_BY, LABEL_MANAGED } from '../../src/api/constants.ts';
import type { ExternalSecret } from '../../src/api/types.generated.ts';
import { esoDataHash, esoSyncedResourceVersion } from '../../src/sync/eso-hash.ts';
import { createdByLabelValue, decodeSecretData, readWriteRecord, type Secret as SyncSecret } from '../../src/sync/secret.ts';
import { ESO_FINALIZER, esoFieldManager, esoSyncedStatus, esoWrittenSecret } from '../../test/fixtures/eso.ts';
import { adminClient, decodeSecret, freshNamespace, onCleanup, peers, uniqueName, waitFor } from './helpers.ts';
import { installTessera, startOperator, type Operator } from './operator.ts';

type ES = ExternalSecret & KubeObject;

let admin: KubeClient;
let op: Operator;
let ns: string;
const controllerClass = uniqueName('switchover');

const storeValues = { 'db/user': 'admin', 'db/pass': 's3cret', 'app/json': '{"host":"db.svc","port":5432}', 'app/key': 'k3y' };
const fakeStore = (values: Record<string, string>) => ({
  apiVersion: 'external-secrets.io/v1',
  kind: 'SecretStore',
  metadata: { name: 'fake', namespace: ns },
  spec: { controller: controllerClass, provider: { fake: { data: Object.entries(values).map(([key, value]) => ({ key, value })) } } },
}) as KubeObject;

interface Scenario {
  name: string;
  spec: Record<string, unknown>;
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  /** What ESO 2.9 computed for it (after its template). */
  data: Record<string, string>;
  templateLabels?: Record<string, string>;
  /** Merge: the foreign Secret that existed before. */
  foreign?: Record<string, string>;
}

const dataOf = (pairs: Record<string, string>) => Object.entries(pairs).map(([secretKey, key]) => ({ secretKey, remoteRef: { key } }));
const lastApplied = '{"apiVersion":"external-secrets.io/v1","kind":"ExternalSecret","metadata":{"name":"owner"}}\n';

const scenarios: Scenario[] = [
  {
    name: 'owner',
    spec: { data: dataOf({ username: 'db/user', password: 'db/pass' }) },
    metadata: { labels: { team: 'payments' }, annotations: { note: 'from git', 'kubectl.kubernetes.io/last-applied-configuration': lastApplied } },
    data: { username: 'admin', password: 's3cret' },
  },
  {
    name: 'orphan',
    spec: { target: { name: 'orphan-target', creationPolicy: 'Orphan' }, data: dataOf({ key: 'app/key' }) },
    data: { key: 'k3y' },
  },
  {
    name: 'merger',
    spec: { target: { name: 'shared', creationPolicy: 'Merge' }, data: dataOf({ password: 'db/pass' }) },
    data: { password: 's3cret' },
    foreign: { precious: 'made by hand' },
  },
  {
    name: 'templated',
    spec: {
      data: dataOf({ user: 'db/user', pass: 'db/pass' }),
      target: { template: { type: 'kubernetes.io/basic-auth', metadata: { labels: { tier: 'db' }, annotations: { rendered: 'yes' } }, data: { username: '{{ .user }}', password: '{{ .pass | upper }}' } } },
    },
    data: { username: 'admin', password: 'S3CRET' },
    templateLabels: { tier: 'db' },
  },
  {
    name: 'extracted',
    spec: { target: { immutable: false }, dataFrom: [{ extract: { key: 'app/json' } }] },
    data: { host: 'db.svc', port: '5432' },
  },
];
// A bulk of plain Owner ExternalSecrets, as most of a cluster's are: 200 in all (issue 11).
const BULK = 200 - scenarios.length;
for (let i = 0; i < BULK; i++) {
  scenarios.push({ name: `bulk-${i}`, spec: { data: dataOf(i % 2 ? { password: 'db/pass' } : { username: 'db/user', password: 'db/pass' }) }, data: i % 2 ? { password: 's3cret' } : { username: 'admin', password: 's3cret' } });
}

const targetOf = (s: Scenario) => ((s.spec.target as { name?: string } | undefined)?.name ?? s.name);
const getSecret = (name: string) => admin.get<Secret>(core.secrets, ns, name);
const getEs = (name: string) => admin.get<ES>(externalSecrets, ns, name);
/** Every ExternalSecret or Secret of the namespace by name, in one list call. */
async function byName<T extends KubeObject>(rt: typeof externalSecrets): Promise<Map<string, T>> {
  const list = await admin.list<T>(rt, ns);
  return new Map(list.items.map((o) => [o.metadata!.name!, o]));
}
const longAgo = new Date(Date.now() - 2 * 3600_000);
const rvBefore = new Map<string, string>();
const statusBefore = new Map<string, { syncedResourceVersion?: string; refreshTime?: string }>();

/** Writes the cluster as ESO 2.9 leaves it. */
async function asEsoLeftIt(s: Scenario): Promise<void> {
  const created = await admin.create<ES>(externalSecrets, {
    apiVersion: 'external-secrets.io/v1',
    kind: 'ExternalSecret',
    metadata: { name: s.name, namespace: ns, finalizers: [ESO_FINALIZER], ...s.metadata },
    spec: { refreshInterval: '1h', secretStoreRef: { name: 'fake', kind: 'SecretStore' }, ...s.spec },
  } as ES);
  let existing: SyncSecret | undefined;
  if (s.foreign) {
    // The Secret another team made, which ESO merged into.
    existing = (await admin.withFieldManager('kubectl-create').create(core.secrets, {
      apiVersion: 'v1', kind: 'Secret', metadata: { name: targetOf(s), namespace: ns }, stringData: s.foreign,
    } as Secret)) as unknown as SyncSecret;
  }
  const secret = esoWrittenSecret(created, { data: s.data, existing, templateLabels: s.templateLabels });
  const eso = admin.withFieldManager(esoFieldManager(s.name));
  const written = existing
    ? await eso.update(core.secrets, secret as unknown as Secret)
    : await eso.create(core.secrets, secret as unknown as Secret);
  // A refresh that is due (refreshTime two hours back, refreshInterval 1h): Tessera must look at
  // every ExternalSecret at once, and the test can see that it did.
  const status = esoSyncedStatus(created, longAgo);
  const withStatus = await admin.patch<ES>(externalSecrets, ns, s.name, 'merge', { status }, { subresource: 'status' });
  rvBefore.set(targetOf(s), written.metadata!.resourceVersion!);
  statusBefore.set(s.name, withStatus.status as { syncedResourceVersion?: string; refreshTime?: string });
}

before(async () => {
  const env = await peers();
  admin = await adminClient();
  await installTessera(admin);
  ns = await freshNamespace(admin, 'switch');
  // Runs before the namespace is deleted (cleanups run in reverse): ESO's finalizer is another
  // part's to handle; here it must not hold the namespace.
  onCleanup(async () => {
    const queue = [...scenarios];
    await Promise.all(Array.from({ length: 8 }, async () => {
      for (let s = queue.shift(); s; s = queue.shift()) await admin.patch(externalSecrets, ns, s.name, 'merge', { metadata: { finalizers: null } }).catch(() => undefined);
    }));
  });
  await admin.create(secretStores, fakeStore(storeValues));
  // Eight at a time: the peers are shared, and 200 objects one by one take long.
  const queue = [...scenarios];
  await Promise.all(Array.from({ length: 8 }, async () => {
    for (let s = queue.shift(); s; s = queue.shift()) await asEsoLeftIt(s);
  }));
  // One namespace: the shared peers hold other files' ExternalSecrets, which must not queue ahead.
  op = await startOperator(admin, env, [`--controller-class=${controllerClass}`, `--namespace=${ns}`]);
});

describe('switch-over from ESO 2.9', () => {
  it('the fixtures are what ESO takes as valid (managed label, data-hash of the data)', async () => {
    const secrets = await byName<Secret>(core.secrets);
    for (const s of scenarios) {
      const secret = secrets.get(targetOf(s)) as unknown as SyncSecret;
      assert.equal(secret.metadata.labels?.[LABEL_MANAGED], 'true', s.name);
      assert.equal(secret.metadata.annotations?.[ANNOTATION_DATA_HASH], esoDataHash(decodeSecretData(secret)), s.name);
      const managers = (secret.metadata.managedFields ?? []).map((m) => m.manager);
      assert.ok(managers.includes(esoFieldManager(s.name)), `${s.name}: ${managers.join(', ')}`);
    }
  });

  it('Tessera syncs every ExternalSecret and writes no Secret', async () => {
    const t0 = performance.now();
    let waiting: string[] = [];
    await waitFor('every ExternalSecret refreshed by Tessera', async () => {
      const all = await byName<ES>(externalSecrets);
      waiting = scenarios.filter((s) => all.get(s.name)?.status?.refreshTime === statusBefore.get(s.name)?.refreshTime).map((s) => s.name);
      return waiting.length === 0;
    }, 120_000, 500).catch((e: Error) => {
      throw new Error(`${e.message}; not yet: ${waiting.slice(0, 10).join(', ')}\noperator log:\n${op.logs.filter((l) => l.includes(ns)).slice(-20).join('\n')}`);
    });
    const elapsed = performance.now() - t0;
    const [secrets, all] = [await byName<Secret>(core.secrets), await byName<ES>(externalSecrets)];
    for (const s of scenarios) {
      const secret = secrets.get(targetOf(s))!;
      assert.equal(secret.metadata?.resourceVersion, rvBefore.get(targetOf(s)), `${s.name}: the Secret was not written`);
      assert.equal(readWriteRecord(secret as unknown as SyncSecret, s.name), undefined, `${s.name}: no write record added`);
      const es = all.get(s.name)!;
      const ready = es.status?.conditions?.find((c) => c.type === 'Ready');
      assert.equal(ready?.status, 'True', `${s.name}: ${ready?.message}`);
      assert.equal(es.status?.syncedResourceVersion, statusBefore.get(s.name)?.syncedResourceVersion, `${s.name}: ESO's syncedResourceVersion is Tessera's`);
      assert.deepEqual(es.metadata.finalizers, [ESO_FINALIZER]);
    }
    assert.deepEqual(decodeSecret(await getSecret('shared')), { precious: 'made by hand', password: 's3cret' });
    console.log(`# ${scenarios.length} ExternalSecrets taken over in ${Math.round(elapsed)} ms, 0 Secret writes`);
  });

  it('a changed remote value is then written, with ESO\'s data-hash; the others stay as they are', async () => {
    await admin.patch(secretStores, ns, 'fake', 'merge', { spec: { provider: { fake: { data: Object.entries({ ...storeValues, 'db/pass': 'rotated' }).map(([key, value]) => ({ key, value })) } } } });
    for (const name of ['owner', 'orphan', 'merger']) {
      await admin.patch(externalSecrets, ns, name, 'merge', { metadata: { annotations: { 'force-sync': '1' } } });
    }
    const owner = await waitFor('the owner Secret rewritten', async () => {
      const s = await getSecret('owner');
      return decodeSecret(s).password === 'rotated' ? s : undefined;
    }, 30_000);
    const merged = await waitFor('the merged Secret rewritten', async () => {
      const s = await getSecret('shared');
      return decodeSecret(s).password === 'rotated' ? s : undefined;
    }, 30_000);
    assert.deepEqual(decodeSecret(merged), { precious: 'made by hand', password: 'rotated' });
    // The Orphan Secret's value did not change, but without a template the ExternalSecret's
    // annotations are copied to it (as ESO does), force-sync too: it is written, and gets the
    // created-by label ESO does not set with Orphan, so no other ExternalSecret can take it.
    const orphan = await waitFor('the orphan Secret rewritten', async () => {
      const s = await getSecret('orphan-target');
      return s.metadata?.annotations?.['force-sync'] === '1' ? s : undefined;
    }, 30_000);
    assert.equal(orphan.metadata?.labels?.[LABEL_CREATED_BY], createdByLabelValue(ns, 'orphan'));
    assert.deepEqual(decodeSecret(orphan), { key: 'k3y' });
    // The status is written after the Secret: wait for it too, as ESO would read it.
    await waitFor('the forced ExternalSecrets\' status written', async () => {
      for (const name of ['owner', 'orphan', 'merger']) {
        const es = await getEs(name);
        if (es.status?.syncedResourceVersion !== esoSyncedResourceVersion(es.metadata)) return false;
      }
      return true;
    }, 30_000);

    for (const s of [owner, merged, orphan]) {
      const secret = s as unknown as SyncSecret;
      assert.equal(secret.metadata.annotations?.[ANNOTATION_DATA_HASH], esoDataHash(decodeSecretData(secret)), 'ESO\'s data-hash of the data');
      assert.equal(secret.metadata.labels?.[LABEL_MANAGED], 'true');
    }
    assert.ok(readWriteRecord(owner as unknown as SyncSecret, 'owner')?.hash, 'the write adds Tessera\'s record');
    assert.equal(owner.metadata?.labels?.[LABEL_CREATED_BY], createdByLabelValue(ns, 'owner'));
    assert.equal(owner.metadata?.labels?.team, 'payments');
    assert.equal(owner.metadata?.ownerReferences?.[0]?.uid, (await getEs('owner')).metadata.uid);
    const managers = (owner.metadata?.managedFields ?? []).map((m) => m.manager);
    assert.ok(managers.includes(esoFieldManager('owner')), 'written with ESO\'s field manager, which ESO reads back');
    // Untouched: the bulk Secrets were not forced, and their refresh is not due.
    const secrets = await byName<Secret>(core.secrets);
    for (const s of scenarios.filter((x) => x.name.startsWith('bulk-'))) {
      assert.equal(secrets.get(targetOf(s))?.metadata?.resourceVersion, rvBefore.get(targetOf(s)), s.name);
    }
  });

  it('switch back: ESO would take every Secret and ExternalSecret as synced', async () => {
    const [secrets, all] = [await byName<Secret>(core.secrets), await byName<ES>(externalSecrets)];
    for (const s of scenarios) {
      const secret = secrets.get(targetOf(s)) as unknown as SyncSecret;
      // ESO's isSecretValid: the managed label and a data-hash equal to ObjectHash(secret.Data).
      assert.equal(secret.metadata.labels?.[LABEL_MANAGED], 'true', s.name);
      assert.equal(secret.metadata.annotations?.[ANNOTATION_DATA_HASH], esoDataHash(decodeSecretData(secret)), s.name);
      // ESO's shouldRefresh: syncedResourceVersion equal to its GetResourceVersion of the metadata.
      const es = all.get(s.name)!;
      assert.equal(es.status?.syncedResourceVersion, esoSyncedResourceVersion(es.metadata), s.name);
      assert.equal(es.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True', s.name);
    }
  });
});
