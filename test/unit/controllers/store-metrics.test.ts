// The store reconciler's metrics, as ESO's ssmetrics/cssmetrics: one status-condition and one
// reconcile-duration family per kind, labelled name and namespace; a store that is not Ready is a
// failed reconcile (so the dashboards' store error rate sees it); a store that is gone takes its
// series with it. In-memory informer and kube client; the real fake provider.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { register, type MetricValue } from 'prom-client';
import { makeStoreReconciler, StoreClients, type AnyStore, type StoreKind } from '../../../src/controllers/stores.ts';
import { TerminalError } from '../../../src/kube/controller.ts';
import type { KubeClient } from '../../../src/kube/client.ts';
import type { Informer } from '../../../src/kube/informer.ts';
import { objectKey, type KubeObject } from '../../../src/kube/types.ts';
import type { ClusterSecretStore, SecretStore } from '../../../src/api/types.generated.ts';
import { createLogger } from '../../../src/log.ts';
import { aClusterSecretStore, aSecretStore, withFakeData, withStoreName, withStoreNamespace } from '../../fixtures/stores.ts';

const silent = createLogger('error', new Writable({ write: (_c, _e, cb) => cb() }));

/** The series of a metric whose labels include `labels`, at scrape time. */
async function series(name: string, labels: Record<string, string>): Promise<Array<MetricValue<string>>> {
  const { values } = await register.getSingleMetric(name)!.get();
  return (values as Array<MetricValue<string>>).filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x));
}

function reconcilerFor(kind: StoreKind, stores: AnyStore[]) {
  const byKey = new Map(stores.map((s) => [objectKey(s as never), s]));
  // Only get() is used: the reconciler reads the store from the cache by key.
  const informer = { get: (key: string) => byKey.get(key) };
  const statusWrites: unknown[] = [];
  const kube = { updateStatusWithRetry: async (...args: unknown[]) => void statusWrites.push(args) } as unknown as KubeClient;
  const reconcile = makeStoreReconciler(kind, {
    kube,
    clients: new StoreClients({ kube, logger: silent }),
    controllerClass: 'default',
    logger: silent,
    secretStoreInformer: informer as unknown as Informer<SecretStore & KubeObject>,
    clusterSecretStoreInformer: informer as unknown as Informer<ClusterSecretStore & KubeObject>,
    requeueIntervalMs: 300_000,
  });
  return { reconcile, byKey, statusWrites };
}

describe('store metrics', () => {
  it('a Ready SecretStore: secretstore_status_condition True=1 False=0, and its reconcile duration in ns', async () => {
    const store = aSecretStore(withStoreName('ready'), withStoreNamespace('unit-metrics'), withFakeData({ a: 'b' })) as AnyStore;
    const { reconcile } = reconcilerFor('SecretStore', [store]);
    assert.deepEqual(await reconcile('unit-metrics/ready'), { requeueAfter: 300_000 });
    const cond = await series('secretstore_status_condition', { name: 'ready', namespace: 'unit-metrics', condition: 'Ready' });
    assert.deepEqual(cond.map((v) => [v.labels.status, v.value]).sort(), [['False', 0], ['True', 1]]);
    const [duration] = await series('secretstore_reconcile_duration', { name: 'ready', namespace: 'unit-metrics' });
    assert.ok(duration && duration.value > 1_000, `nanoseconds, as ESO: ${duration?.value}`);
    assert.deepEqual(await series('clustersecretstore_status_condition', { name: 'ready' }), [], 'a SecretStore is not in the ClusterSecretStore family');
  });

  it('an invalid ClusterSecretStore: a terminal reconcile error, clustersecretstore_status_condition False=1 with an empty namespace', async () => {
    const store = aClusterSecretStore(withStoreName('unit-invalid'), withFakeData({})) as AnyStore;
    (store.spec as { conditions?: unknown }).conditions = [{ namespaceRegexes: ['(unclosed'] }];
    const { reconcile, statusWrites } = reconcilerFor('ClusterSecretStore', [store]);
    await assert.rejects(reconcile('unit-invalid'), (e: Error) => e instanceof TerminalError && /not ready \(InvalidProviderConfig\)/.test(e.message));
    assert.equal(statusWrites.length, 1, 'the Ready=False condition is written before the error is returned');
    const cond = await series('clustersecretstore_status_condition', { name: 'unit-invalid', namespace: '', condition: 'Ready' });
    assert.deepEqual(cond.map((v) => [v.labels.status, v.value]).sort(), [['False', 1], ['True', 0]]);
    assert.equal((await series('clustersecretstore_reconcile_duration', { name: 'unit-invalid', namespace: '' })).length, 1, 'a failed reconcile has a duration too');
  });

  it('a store that is gone takes its series with it', async () => {
    const store = aSecretStore(withStoreName('going'), withStoreNamespace('unit-metrics'), withFakeData({ a: 'b' })) as AnyStore;
    const staying = aSecretStore(withStoreName('staying'), withStoreNamespace('unit-metrics'), withFakeData({ a: 'b' })) as AnyStore;
    const { reconcile, byKey } = reconcilerFor('SecretStore', [store, staying]);
    await reconcile('unit-metrics/going');
    await reconcile('unit-metrics/staying');
    assert.equal((await series('secretstore_status_condition', { name: 'going' })).length, 2);
    byKey.delete('unit-metrics/going');
    assert.deepEqual(await reconcile('unit-metrics/going'), {});
    assert.deepEqual(await series('secretstore_status_condition', { name: 'going' }), []);
    assert.deepEqual(await series('secretstore_reconcile_duration', { name: 'going' }), []);
    assert.equal((await series('secretstore_status_condition', { name: 'staying' })).length, 2, 'other stores keep theirs');
  });
});
