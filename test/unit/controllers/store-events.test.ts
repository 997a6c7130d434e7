// Events on SecretStores: one per outcome (ESO's reasons), not one per requeue. The reconciler
// runs against in-memory stand-ins of the informer, the client cache and the event recorder.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { makeStoreReconciler, storeEvent, type AnyStore, type StoreClients, type StoreReconcilerDeps } from '../../../src/controllers/stores.ts';
import type { EventRecorder } from '../../../src/kube/events.ts';
import type { KubeClient } from '../../../src/kube/client.ts';
import { ProviderError } from '../../../src/providers/provider.ts';
import { createLogger } from '../../../src/log.ts';

const silent = createLogger('error', new Writable({ write: (_c, _e, cb) => cb() }));

function harness() {
  const store: AnyStore = {
    apiVersion: 'external-secrets.io/v1', kind: 'SecretStore',
    metadata: { name: 'vault', namespace: 'team-a', uid: 'u1', generation: 1 },
    spec: { provider: { fake: { data: [] } } },
  } as unknown as AnyStore;
  let validate: () => Promise<void> = async () => undefined;
  let probeError: Error | undefined;
  const recorded: Array<{ type: string; reason: string; message: string }> = [];
  const deps: StoreReconcilerDeps = {
    kube: { updateStatusWithRetry: async (_rt: unknown, _ns: unknown, _n: unknown, fn: (o: AnyStore) => AnyStore) => Object.assign(store, fn(store)) } as unknown as KubeClient,
    clients: {
      probe: async () => {
        if (probeError) throw probeError;
        return { provider: { name: 'fake', capabilities: () => 'ReadWrite' }, client: { validate: () => validate(), close: async () => undefined }, problems: [] };
      },
    } as unknown as StoreClients,
    controllerClass: 'default',
    logger: silent,
    secretStoreInformer: { get: (k: string) => (k === 'team-a/vault' ? store : undefined) } as unknown as StoreReconcilerDeps['secretStoreInformer'],
    clusterSecretStoreInformer: { get: () => undefined } as unknown as StoreReconcilerDeps['clusterSecretStoreInformer'],
    requeueIntervalMs: 60_000,
    events: { record: (_o: unknown, type: string, reason: string, message: string) => recorded.push({ type, reason, message }) } as unknown as EventRecorder,
  };
  // Whether the reconciler takes the reconcile's AbortSignal yet or not, this call shape fits both.
  const reconcile = makeStoreReconciler('SecretStore', deps) as (key: string, signal: AbortSignal) => Promise<unknown>;
  const restarted = () => makeStoreReconciler('SecretStore', deps) as (key: string, signal: AbortSignal) => Promise<unknown>;
  return { store, reconcile, restarted, recorded, probeFailsWith: (e: Error | undefined) => (probeError = e), failWith: (e: Error | undefined) => (validate = async () => { if (e) throw e; }) };
}

describe('store events', () => {
  it('status.capabilities is the provider\'s (ReadWrite, as ESO reports it), and kept when the store cannot be built', async () => {
    const h = harness();
    await h.reconcile('team-a/vault', new AbortController().signal);
    assert.equal((h.store.status as { capabilities?: string }).capabilities, 'ReadWrite');
    h.probeFailsWith(new Error('credentials secret team-a/vault-token not found'));
    await assert.rejects(h.reconcile('team-a/vault', new AbortController().signal));
    const status = h.store.status as { capabilities?: string; conditions?: Array<{ status: string }> };
    assert.equal(status.conditions?.[0]?.status, 'False');
    assert.equal(status.capabilities, 'ReadWrite', 'not replaced by a guess');
  });

  it('uses ESO\'s reasons: Normal Valid "store validated", Warning InvalidProviderConfig with the error', () => {
    assert.deepEqual(storeEvent(true, 'store validated'), { type: 'Normal', reason: 'Valid', message: 'store validated' });
    assert.deepEqual(storeEvent(false, 'unable to validate store: denied'), { type: 'Warning', reason: 'InvalidProviderConfig', message: 'unable to validate store: denied' });
  });

  it('records each outcome once, not on every requeue, and again when it changes', async () => {
    const h = harness();
    await h.reconcile('team-a/vault', new AbortController().signal);
    await h.reconcile('team-a/vault', new AbortController().signal);
    assert.deepEqual(h.recorded, [{ type: 'Normal', reason: 'Valid', message: 'store validated' }]);

    h.failWith(new ProviderError('BadCredentials', 'the token was refused'));
    // A store that is not Ready fails its reconcile (retried with backoff by the controller).
    await assert.rejects(h.reconcile('team-a/vault', new AbortController().signal), { name: 'StoreNotReadyError' });
    await assert.rejects(h.reconcile('team-a/vault', new AbortController().signal), { name: 'StoreNotReadyError' });
    assert.equal(h.recorded.length, 2);
    assert.deepEqual(h.recorded[1], { type: 'Warning', reason: 'InvalidProviderConfig', message: 'unable to validate store: the token was refused' });

    h.failWith(undefined);
    await h.reconcile('team-a/vault', new AbortController().signal);
    assert.deepEqual(h.recorded.map((e) => e.reason), ['Valid', 'InvalidProviderConfig', 'Valid'], 'recovery is recorded');
  });

  it('a restarted controller records nothing its store\'s status already shows, and records a change', async () => {
    const h = harness();
    await h.reconcile('team-a/vault', new AbortController().signal);
    assert.equal(h.recorded.length, 1);
    await h.restarted()('team-a/vault', new AbortController().signal);
    assert.equal(h.recorded.length, 1, 'no event after a restart for an unchanged outcome');
    const again = h.restarted();
    h.failWith(new ProviderError('BadCredentials', 'the token was refused'));
    await assert.rejects(again('team-a/vault', new AbortController().signal), { name: 'StoreNotReadyError' });
    assert.deepEqual(h.recorded.map((e) => e.reason), ['Valid', 'InvalidProviderConfig']);
  });
});
