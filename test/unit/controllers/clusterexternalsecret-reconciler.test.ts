// One ClusterExternalSecret reconcile at a time against in-memory caches and a recording fake of
// the kube client's writes: which writes happen (none when nothing changed), what is retried, and
// what is left to another controller class. The apiserver-level behaviour is in
// test/integration/clusterexternalsecret.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { ClusterExternalSecret, ClusterSecretStore, ExternalSecret } from '../../../src/api/types.generated.ts';
import { ApiError } from '../../../src/kube/client.ts';
import { ClusterExternalSecretReconciler, type ClusterExternalSecretReconcilerDeps } from '../../../src/controllers/clusterexternalsecret.ts';
import { controllingCes, desiredExternalSecret, type NamespaceView } from '../../../src/controllers/clusterexternalsecret-plan.ts';

const esSpec = { secretStoreRef: { name: 'store', kind: 'ClusterSecretStore' as const }, refreshInterval: '1h0m0s', data: [{ secretKey: 'a', remoteRef: { key: 'k' } }] };

function ces(spec: Partial<ClusterExternalSecret['spec']> = {}, meta: Partial<ClusterExternalSecret['metadata']> = {}): ClusterExternalSecret {
  return { metadata: { name: 'pull', uid: 'u-1', ...meta }, spec: { externalSecretSpec: esSpec, namespaceSelectors: [{ matchLabels: { team: 'x' } }], ...spec } };
}
const ns = (name: string, labels: Record<string, string> = {}, finalizers: string[] = []): NamespaceView => ({ name, labels, terminating: false, finalizers });

interface World {
  ces?: ClusterExternalSecret;
  namespaces?: NamespaceView[];
  externalSecrets?: ExternalSecret[];
  stores?: ClusterSecretStore[];
  failCreate?: (es: ExternalSecret) => unknown;
}

function setup(w: World, controllerClass = '') {
  const writes: string[] = [];
  const ess = new Map((w.externalSecrets ?? []).map((e) => [`${e.metadata.namespace}/${e.metadata.name}`, e]));
  let status: ClusterExternalSecret['status'];
  const kube = {
    create: async (_rt: unknown, obj: ExternalSecret) => {
      const err = w.failCreate?.(obj);
      if (err) throw err;
      writes.push(`create ${obj.metadata.namespace}/${obj.metadata.name}`);
      return obj;
    },
    update: async (_rt: unknown, obj: ExternalSecret) => {
      writes.push(`update ${obj.metadata.namespace}/${obj.metadata.name}`);
      return obj;
    },
    delete: async (_rt: unknown, namespace: string, name: string) => void writes.push(`delete ${namespace}/${name}`),
    patch: async (rt: { plural: string }, _ns: unknown, name: string) => void writes.push(`patch ${rt.plural}/${name}`),
    tryGet: async (rt: { plural: string }, _ns: unknown, name: string) => (rt.plural === 'clustersecretstores' ? w.stores?.find((s) => s.metadata.name === name) : undefined),
    updateStatusWithRetry: async (_rt: unknown, _ns: unknown, _name: string, mutate: (c: ClusterExternalSecret) => ClusterExternalSecret | undefined) => {
      const next = mutate({ ...w.ces!, status: w.ces!.status });
      if (next) {
        writes.push('status');
        status = next.status;
      }
      return next;
    },
  } as unknown as ClusterExternalSecretReconcilerDeps['kube'];
  const reconciler = new ClusterExternalSecretReconciler({
    kube,
    logger: pino({ level: 'silent' }),
    controllerClass,
    ces: () => w.ces,
    namespaces: () => w.namespaces ?? [],
    externalSecret: (namespace, name) => ess.get(`${namespace}/${name}`),
    ownedExternalSecrets: (name) => [...ess.values()].filter((e) => controllingCes(e) === name),
  });
  return { reconciler, writes, status: () => status };
}

const signal = new AbortController().signal;

describe('ClusterExternalSecret reconcile', () => {
  it('creates in matching namespaces, deletes its own elsewhere, requeues after refreshTime', async () => {
    const c = ces({ refreshTime: '10m' });
    const stale = desiredExternalSecret(c, 'gone-team');
    const { reconciler, writes, status } = setup({ ces: c, namespaces: [ns('a', { team: 'x' }), ns('b'), ns('gone-team')], externalSecrets: [{ ...stale, metadata: { ...stale.metadata, uid: 'old' } }] });
    const result = await reconciler.reconcile('pull', signal);
    assert.deepEqual(writes, ['delete gone-team/pull', 'create a/pull', 'status']);
    assert.deepEqual(result, { requeueAfter: 600_000 });
    assert.deepEqual(status()?.provisionedNamespaces, ['a']);
  });

  it('nothing changed: no write at all', async () => {
    const c = ces({}, {});
    const existing = desiredExternalSecret(c, 'a');
    const provisioned = { externalSecretName: 'pull', provisionedNamespaces: ['a'], conditions: [{ type: 'Ready', status: 'True' }] };
    const { reconciler, writes } = setup({ ces: { ...c, status: provisioned }, namespaces: [ns('a', { team: 'x' })], externalSecrets: [existing] });
    await reconciler.reconcile('pull', signal);
    assert.deepEqual(writes, []);
  });

  it('a foreign ExternalSecret is reported and never written; not retried (its deletion re-enqueues)', async () => {
    const foreign: ExternalSecret = { metadata: { name: 'pull', namespace: 'a' }, spec: esSpec };
    const { reconciler, writes, status } = setup({ ces: ces(), namespaces: [ns('a', { team: 'x' })], externalSecrets: [foreign] });
    const result = await reconciler.reconcile('pull', signal);
    assert.deepEqual(writes, ['status']);
    assert.deepEqual(status()?.failedNamespaces, [{ namespace: 'a', reason: 'external secret already exists in namespace' }]);
    assert.ok(result.requeueAfter);
  });

  it('a refused create is reported without the apiserver\'s message and retried (the reconcile throws after writing status)', async () => {
    const refused = new ApiError(422, { kind: 'Status', message: 'spec.data: Invalid value: "hunter2"', reason: 'Invalid', details: { causes: [{ field: 'spec.data', reason: 'FieldValueInvalid' }] } }, 'POST', '/x');
    const { reconciler, writes, status } = setup({ ces: ces(), namespaces: [ns('a', { team: 'x' })], failCreate: () => refused });
    await assert.rejects(reconciler.reconcile('pull', signal), /1 namespace\(s\) failed; retrying/);
    assert.deepEqual(writes, ['status']);
    const reason = status()?.failedNamespaces?.[0]?.reason ?? '';
    assert.match(reason, /^could not create or update ExternalSecret: the API server refused it \(422 Invalid\): spec\.data FieldValueInvalid$/);
    assert.doesNotMatch(reason, /hunter2/);
  });

  it('a ClusterSecretStore of another controller class: left alone', async () => {
    const store = { metadata: { name: 'store' }, spec: { controller: 'other', provider: { fake: { data: [] } } } } as unknown as ClusterSecretStore;
    const { reconciler, writes } = setup({ ces: ces(), namespaces: [ns('a', { team: 'x' })], stores: [store] }, 'mine');
    assert.deepEqual(await reconciler.reconcile('pull', signal), {});
    assert.deepEqual(writes, []);
  });

  it('deleted with ESO\'s finalizer: its ExternalSecrets deleted, ESO\'s namespace finalizer and its own removed', async () => {
    const c = ces({}, { deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['externalsecrets.external-secrets.io/clusterexternalsecret-cleanup'] });
    const { reconciler, writes } = setup({ ces: c, namespaces: [ns('a', { team: 'x' }, ['externalsecrets.external-secrets.io/ces-pull'])], externalSecrets: [desiredExternalSecret(c, 'a')] });
    await reconciler.reconcile('pull', signal);
    assert.deepEqual(writes, ['delete a/pull', 'patch namespaces/a', 'patch clusterexternalsecrets/pull']);
  });

  it('gone already: only ESO\'s namespace finalizers are left to remove', async () => {
    const { reconciler, writes } = setup({ namespaces: [ns('a', {}, ['externalsecrets.external-secrets.io/ces-pull']), ns('b', {}, ['externalsecrets.external-secrets.io/ces-other'])] });
    await reconciler.reconcile('pull', signal);
    assert.deepEqual(writes, ['patch namespaces/a']);
  });
});
