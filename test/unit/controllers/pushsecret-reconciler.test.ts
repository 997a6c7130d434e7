// One PushSecret reconcile per row, with an in-memory kube client and a recording provider client:
// what is pushed and deleted, the status and events, and what is left alone (another controller
// class's store, a remote secret that is not ours, a source Secret that is gone).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { PushSecretReconciler, type PS } from '../../../src/controllers/pushsecret-reconciler.ts';
import { RemoteNotOwnedError } from '../../../src/providers/common/push.ts';
import type { ProviderClient, PushRef, PushRequest } from '../../../src/providers/provider.ts';
import type { KubeObject, ResourceType } from '../../../src/kube/types.ts';
import { computeInline } from '../../../src/compute/task.ts';
import { computePushEntries } from '../../../src/compute/push.ts';
import { renderKeyTemplate } from '../../../src/sync/template.ts';

type Obj = KubeObject & Record<string, any>;

/** The kube verbs the reconciler uses, over a map of objects keyed by plural/namespace/name. */
function memoryKube(objects: Obj[]) {
  const store = new Map<string, Obj>();
  const key = (rt: ResourceType, ns: string | undefined, name: string) => `${rt.plural}/${ns ?? ''}/${name}`;
  const pluralOf = (o: Obj) => ({ Secret: 'secrets', SecretStore: 'secretstores', ClusterSecretStore: 'clustersecretstores', PushSecret: 'pushsecrets', Namespace: 'namespaces' } as Record<string, string>)[o.kind!]!;
  for (const o of objects) store.set(`${pluralOf(o)}/${o.metadata!.namespace ?? ''}/${o.metadata!.name}`, structuredClone(o));
  const kube: any = {
    withFieldManager: () => kube,
    get: async (rt: ResourceType, ns: string | undefined, name: string) => structuredClone(store.get(key(rt, ns, name))),
    tryGet: async (rt: ResourceType, ns: string | undefined, name: string) => structuredClone(store.get(key(rt, ns, name))),
    list: async (rt: ResourceType, ns: string | undefined) => ({ metadata: {}, items: [...store.entries()].filter(([k]) => k.startsWith(`${rt.plural}/${ns ?? ''}/`)).map(([, v]) => structuredClone(v)) }),
    patch: async (rt: ResourceType, ns: string | undefined, name: string, type: string, body: any) => {
      const cur = store.get(key(rt, ns, name))!;
      if (type === 'merge') cur.metadata = { ...cur.metadata, finalizers: body.metadata.finalizers };
      else for (const op of body) if (op.op === 'remove') cur.metadata!.finalizers!.splice(Number(op.path.split('/').pop()), 1);
      return structuredClone(cur);
    },
    updateStatusWithRetry: async (rt: ResourceType, ns: string | undefined, name: string, mutate: (o: Obj) => Obj) => {
      const next = mutate(structuredClone(store.get(key(rt, ns, name))!));
      store.set(key(rt, ns, name), next);
      return next;
    },
    create: async () => undefined,
    update: async () => undefined,
    delete: async () => undefined,
  };
  return { kube, store, get: (plural: string, ns: string | undefined, name: string) => store.get(`${plural}/${ns ?? ''}/${name}`) };
}

/** A provider client that records pushes and deletions and holds values in memory. */
function recordingClient(foreign: string[] = []) {
  const remote = new Map<string, string>(foreign.map((k) => [k, 'theirs']));
  const pushes: string[] = [];
  const deletes: string[] = [];
  const client: ProviderClient = {
    getValue: async () => ({ value: new Uint8Array() }),
    findValues: async () => new Map(),
    validate: async () => undefined,
    close: async () => undefined,
    pushValue: async (req: PushRequest) => {
      if (foreign.includes(req.ref.remoteKey)) throw new RemoteNotOwnedError(`fake ${JSON.stringify(req.ref.remoteKey)}`);
      pushes.push(req.ref.remoteKey);
      remote.set(req.ref.remoteKey, new TextDecoder().decode(req.value));
    },
    deleteValue: async (ref: PushRef) => {
      if (foreign.includes(ref.remoteKey)) return;
      deletes.push(ref.remoteKey);
      remote.delete(ref.remoteKey);
    },
    remoteExists: async (ref: PushRef) => remote.has(ref.remoteKey),
  };
  return { client, remote, pushes, deletes };
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const secret = (data: Record<string, string>): Obj => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'src', namespace: 'ns', resourceVersion: '1' }, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])) });
const store = (controller?: string): Obj => ({ apiVersion: 'external-secrets.io/v1', kind: 'SecretStore', metadata: { name: 'st', namespace: 'ns', uid: 'u1', generation: 1 }, spec: { ...(controller ? { controller } : {}), provider: { fake: { data: [] } } } });
const ps = (spec: Record<string, unknown>, status?: Record<string, unknown>): Obj => ({
  apiVersion: 'external-secrets.io/v1alpha1', kind: 'PushSecret',
  metadata: { name: 'p', namespace: 'ns', uid: 'u2', generation: 1, resourceVersion: '5' },
  spec: { secretStoreRefs: [{ name: 'st', kind: 'SecretStore' }], selector: { secret: { name: 'src' } }, refreshInterval: '1h', ...spec },
  ...(status ? { status } : {}),
});

function setup(objects: Obj[], foreign: string[] = []) {
  const mem = memoryKube(objects);
  const rec = recordingClient(foreign);
  const events: string[] = [];
  const reconciler = new PushSecretReconciler({
    pushSecret: (k) => mem.get('pushsecrets', k.split('/')[0], k.split('/')[1]!) as PS | undefined,
    kube: mem.kube,
    clients: { clientFor: async () => ({ id: 'st', provider: 'fake', client: rec.client }) },
    computeDesiredSecret: async (input) => computeInline(input),
    computePushEntries: async (input) => computePushEntries(input, renderKeyTemplate),
    events: { normal: (_o, reason, message) => events.push(`Normal ${reason} ${message}`), warning: (_o, reason, message) => events.push(`Warning ${reason} ${message}`) },
    logger: pino({ level: 'silent' }),
    controllerClass: 'default',
  });
  const ready = () => (mem.get('pushsecrets', 'ns', 'p')?.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
  return { mem, rec, events, reconciler, ready };
}

const entry = (secretKey: string, remoteKey: string) => ({ match: { secretKey, remoteRef: { remoteKey } } });

describe('PushSecretReconciler', () => {
  it('pushes, records status.syncedPushSecrets and a Synced event, and asks to come back after refreshInterval', async () => {
    const t = setup([secret({ a: 'va', b: 'vb' }), store(), ps({ data: [entry('a', 'ra'), entry('b', 'rb')] })]);
    assert.deepEqual(await t.reconciler.reconcile('ns/p'), { requeueAfter: 3_600_000 });
    assert.deepEqual(t.rec.pushes, ['ra', 'rb']);
    assert.deepEqual(Object.keys(t.mem.get('pushsecrets', 'ns', 'p')!.status.syncedPushSecrets['SecretStore/st']), ['ra', 'rb']);
    assert.equal(t.ready()?.reason, 'Synced');
    assert.deepEqual(t.events, ['Normal Synced PushSecret synced successfully']);
    // Nothing changed: not pushed again before refreshInterval.
    await t.reconciler.reconcile('ns/p');
    assert.deepEqual(t.rec.pushes, ['ra', 'rb']);
  });

  it('dataTo rewrite transforms render their key templates', async () => {
    const t = setup([secret({ a: 'va', b: 'vb' }), store(), ps({ dataTo: [{ storeRef: { name: 'st' }, rewrite: [{ transform: { template: 'app-{{ .value | upper }}' } }] }] })]);
    assert.deepEqual(await t.reconciler.reconcile('ns/p'), { requeueAfter: 3_600_000 });
    assert.deepEqual(t.rec.pushes, ['app-A', 'app-B']);
    assert.equal(t.rec.remote.get('app-B'), 'vb');
    assert.equal(t.ready()?.reason, 'Synced');
  });

  it('deletionPolicy Delete: adds the finalizer and deletes what is no longer pushed', async () => {
    const previous = { 'SecretStore/st': { ra: entry('a', 'ra'), gone: entry('x', 'gone') } };
    const t = setup([secret({ a: 'va' }), store(), ps({ deletionPolicy: 'Delete', data: [entry('a', 'ra')] }, { syncedPushSecrets: previous, syncedResourceVersion: 'old' })]);
    await t.reconciler.reconcile('ns/p');
    assert.deepEqual(t.rec.deletes, ['gone']);
    assert.ok(t.mem.get('pushsecrets', 'ns', 'p')!.metadata!.finalizers!.includes('pushsecret.externalsecrets.io/finalizer'));
    assert.deepEqual(Object.keys(t.mem.get('pushsecrets', 'ns', 'p')!.status.syncedPushSecrets['SecretStore/st']), ['ra']);
  });

  it('a PushSecret being deleted with Delete removes everything it pushed, then the finalizer', async () => {
    const obj = ps({ deletionPolicy: 'Delete', data: [entry('a', 'ra')] }, { syncedPushSecrets: { 'SecretStore/st': { ra: entry('a', 'ra') } } });
    obj.metadata!.finalizers = ['pushsecret.externalsecrets.io/finalizer'];
    obj.metadata!.deletionTimestamp = '2026-01-01T00:00:00Z';
    const t = setup([secret({ a: 'va' }), store(), obj]);
    assert.deepEqual(await t.reconciler.reconcile('ns/p'), {});
    assert.deepEqual(t.rec.deletes, ['ra']);
    assert.deepEqual(t.mem.get('pushsecrets', 'ns', 'p')!.metadata!.finalizers!, []);
  });

  it("a store of another controller class: nothing pushed, no status, no finalizer; its finalizer is left to that controller", async () => {
    const t = setup([secret({ a: 'va' }), store('other'), ps({ deletionPolicy: 'Delete', data: [entry('a', 'ra')] })]);
    assert.deepEqual(await t.reconciler.reconcile('ns/p'), {});
    assert.deepEqual(t.rec.pushes, []);
    assert.equal(t.ready(), undefined);
    assert.equal(t.mem.get('pushsecrets', 'ns', 'p')!.metadata!.finalizers, undefined);
    const deleting = ps({ deletionPolicy: 'Delete' }, { syncedPushSecrets: { 'SecretStore/st': { ra: entry('a', 'ra') } } });
    deleting.metadata!.finalizers = ['pushsecret.externalsecrets.io/finalizer'];
    deleting.metadata!.deletionTimestamp = '2026-01-01T00:00:00Z';
    const d = setup([store('other'), deleting]);
    await d.reconciler.reconcile('ns/p');
    assert.deepEqual(d.rec.deletes, []);
    assert.deepEqual(d.mem.get('pushsecrets', 'ns', 'p')!.metadata!.finalizers, ['pushsecret.externalsecrets.io/finalizer']);
  });

  it('a remote secret that is not ours: Errored with the reason, a Warning event, and a retry', async () => {
    const t = setup([secret({ a: 'va' }), store(), ps({ data: [entry('a', 'theirs')] })], ['theirs']);
    await assert.rejects(t.reconciler.reconcile('ns/p'), /not managed by external-secrets/);
    assert.equal(t.ready()?.reason, 'Errored');
    assert.match(t.ready()?.message, /^could not write remote ref theirs to target secretstore SecretStore\/st: fake "theirs": secret not managed by external-secrets/);
    assert.equal(t.rec.remote.get('theirs'), 'theirs');
    assert.match(t.events[0]!, /^Warning Errored could not write remote ref theirs/);
  });

  it('the named source Secret deleted after a push with Delete: SourceDeleted, remote data removed', async () => {
    const t = setup([store(), ps({ deletionPolicy: 'Delete', data: [entry('a', 'ra')] }, { syncedPushSecrets: { 'SecretStore/st': { ra: entry('a', 'ra') } } })]);
    await t.reconciler.reconcile('ns/p');
    assert.deepEqual(t.rec.deletes, ['ra']);
    assert.equal(t.ready()?.reason, 'SourceDeleted');
    assert.deepEqual(t.mem.get('pushsecrets', 'ns', 'p')!.status.syncedPushSecrets, {});
  });

  it('updatePolicy IfNotExists leaves what exists', async () => {
    const t = setup([secret({ a: 'va' }), store(), ps({ updatePolicy: 'IfNotExists', data: [entry('a', 'ra')] })]);
    t.rec.remote.set('ra', 'old');
    await t.reconciler.reconcile('ns/p');
    assert.deepEqual(t.rec.pushes, []);
    assert.equal(t.ready()?.message, 'PushSecret synced successfully. Existing secrets in providers unchanged.');
  });
});
