// The informer against the real kube-apiserver: list+watch, selectors, indexes, a resume across
// an apiserver restart, and a re-list after 410 Gone once etcd has compacted the history.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Informer, type AddInfo, type InformerLifecycleEvent } from '../../../src/kube/informer.ts';
import type { KubeClient } from '../../../src/kube/client.ts';
import { core, type KubeObject, type ResourceType } from '../../../src/kube/types.ts';
import { restartPeer, ports } from '../../peers/index.ts';
import { adminClient, freshNamespace, peers, sleep, waitFor } from '../helpers.ts';

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

/** Records every handler call, to prove nothing is lost or delivered twice. */
function recorder<T extends KubeObject>() {
  const calls: Array<{ type: 'add' | 'update' | 'delete'; name: string; rv: string; initialList?: boolean }> = [];
  return {
    calls,
    handlers: {
      add: (o: T, info: AddInfo) => calls.push({ type: 'add', name: o.metadata!.name!, rv: o.metadata!.resourceVersion!, initialList: info.initialList }),
      update: (_: T, o: T) => calls.push({ type: 'update', name: o.metadata!.name!, rv: o.metadata!.resourceVersion! }),
      delete: (o: T) => calls.push({ type: 'delete', name: o.metadata!.name!, rv: o.metadata!.resourceVersion ?? '' }),
    },
  };
}

/** Replays the handler log into a name→rv map: the view a handler-driven consumer would hold. */
function replay(calls: Array<{ type: string; name: string; rv: string }>): Map<string, string> {
  const m = new Map<string, string>();
  for (const c of calls) {
    if (c.type === 'add') {
      assert.ok(!m.has(c.name), `duplicate add for ${c.name}`);
      m.set(c.name, c.rv);
    } else if (c.type === 'update') {
      assert.ok(m.has(c.name), `update before add for ${c.name}`);
      assert.notEqual(m.get(c.name), c.rv, `duplicate update for ${c.name}@${c.rv}`);
      m.set(c.name, c.rv);
    } else {
      assert.ok(m.has(c.name), `delete of unknown ${c.name}`);
      m.delete(c.name);
    }
  }
  return m;
}

async function serverView(client: KubeClient, rt: ResourceType, ns: string, selector?: string): Promise<Map<string, string>> {
  const list = await client.list(rt, ns, { labelSelector: selector });
  return new Map(list.items.map((o) => [o.metadata!.name!, o.metadata!.resourceVersion!]));
}

function cacheView<T extends KubeObject>(inf: Informer<T>): Map<string, string> {
  return new Map(inf.list().map((o) => [o.metadata!.name!, o.metadata!.resourceVersion!]));
}

const cm = (ns: string, name: string, labels: Record<string, string>, data: Record<string, string> = {}): ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: ns, labels },
  data,
});

describe('Informer against kube-apiserver', () => {
  let client: KubeClient;
  before(async () => {
    await peers();
    client = await adminClient();
  });

  it('lists, watches, filters by label, indexes, and calls handlers once per change', async () => {
    const ns = await freshNamespace(client, 'inf');
    await client.create(core.configMaps, cm(ns, 'pre-existing', { app: 'a', team: 'x' }));
    await client.create(core.configMaps, cm(ns, 'other-app', { app: 'b' }));
    const rec = recorder<ConfigMap>();
    const inf = new Informer<ConfigMap>(client, core.configMaps, {
      namespace: ns,
      labelSelector: 'app=a',
      indexers: { team: (o) => (o.metadata?.labels?.team ? [o.metadata.labels.team] : []) },
    });
    inf.addHandlers(rec.handlers);
    inf.start();
    try {
      assert.equal(await inf.waitForSync(), true);
      assert.deepEqual(inf.keys(), [`${ns}/pre-existing`]);
      await client.create(core.configMaps, cm(ns, 'second', { app: 'a', team: 'y' }));
      await client.patch(core.configMaps, ns, 'pre-existing', 'merge', { data: { k: 'v' } });
      await client.create(core.configMaps, cm(ns, 'ignored', { app: 'b' }));
      await client.delete(core.configMaps, ns, 'second');
      await waitFor('cache to converge', async () => {
        const want = await serverView(client, core.configMaps, ns, 'app=a');
        return JSON.stringify([...cacheView(inf)]) === JSON.stringify([...want]);
      });
      assert.deepEqual(
        rec.calls.map((c) => `${c.type}:${c.name}`),
        ['add:pre-existing', 'add:second', 'update:pre-existing', 'delete:second'],
      );
      // Adds of the first list are marked (a controller enqueues them at low priority); later ones are not.
      assert.deepEqual(rec.calls.filter((c) => c.type === 'add').map((c) => `${c.name}:${c.initialList}`), ['pre-existing:true', 'second:false']);
      assert.equal(inf.byIndex('team', 'x').length, 1);
      assert.equal(inf.byIndex('team', 'y').length, 0, 'index entry removed with the object');
      assert.equal(inf.get(`${ns}/pre-existing`)?.data?.k, 'v');
      assert.equal(inf.get(`${ns}/pre-existing`)?.metadata?.managedFields, undefined, 'managedFields are not cached');
    } finally {
      await inf.stop();
    }
  });

  it('metadataOnly lists and watches PartialObjectMetadata: names and labels arrive, Secret data never does', async () => {
    const ns = await freshNamespace(client, 'inf-meta');
    const value = 'metadata-only-canary';
    // An empty collection: the apiserver answers a PartialObjectMetadataList with "items": null.
    const empty = new Informer<KubeObject>(client, core.secrets, { namespace: ns, metadataOnly: true });
    empty.start();
    try {
      assert.equal(await empty.waitForSync(), true);
      assert.deepEqual(empty.keys(), []);
    } finally {
      await empty.stop();
    }
    await client.create(core.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'listed', namespace: ns, labels: { a: '1' } }, stringData: { k: value } } as KubeObject);
    const seen: string[] = [];
    const inf = new Informer<KubeObject & { data?: unknown }>(client, core.secrets, { namespace: ns, metadataOnly: true });
    inf.addHandlers({ add: (o) => seen.push(JSON.stringify(o)), update: (_, o) => seen.push(JSON.stringify(o)) });
    inf.start();
    try {
      assert.equal(await inf.waitForSync(), true);
      const listed = inf.get(`${ns}/listed`);
      assert.equal(listed?.kind, 'PartialObjectMetadata');
      assert.equal(listed?.metadata?.labels?.a, '1');
      assert.equal(listed?.data, undefined);
      await client.create(core.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'watched', namespace: ns }, stringData: { k: value } } as KubeObject);
      await client.patch(core.secrets, ns, 'listed', 'merge', { metadata: { labels: { a: '2' } }, stringData: { k: `${value}-2` } });
      await waitFor('watch events', async () => inf.get(`${ns}/watched`) !== undefined && inf.get(`${ns}/listed`)?.metadata?.labels?.a === '2');
      assert.equal(inf.get(`${ns}/watched`)?.kind, 'PartialObjectMetadata');
      const b64 = Buffer.from(value).toString('base64').slice(0, 12);
      for (const o of seen) assert.ok(!o.includes(value) && !o.includes(b64), 'no Secret value reached the informer');
    } finally {
      await inf.stop();
    }
  });

  it('re-lists after 410 Gone when its resourceVersion was compacted away, and converges exactly', async () => {
    // PodTemplates are served without the watch cache (see test/peers: --watch-cache-sizes), so
    // a watch from a compacted revision reaches etcd and is answered 410 Gone.
    const rt = { group: '', version: 'v1', plural: 'podtemplates', kind: 'PodTemplate', namespaced: true };
    const ns = await freshNamespace(client, 'gone');
    const tpl = (name: string, v: string) => ({
      apiVersion: 'v1',
      kind: 'PodTemplate',
      metadata: { name, namespace: ns, labels: { v } },
      template: { spec: { containers: [{ name: 'c', image: 'example' }] } },
    });
    for (const n of ['keep', 'change', 'remove']) await client.create(rt, tpl(n, '1'));
    const events: InformerLifecycleEvent[] = [];
    const rec = recorder<KubeObject>();
    const inf = new Informer<KubeObject>(client, rt, { namespace: ns, onEvent: (e) => events.push(e) });
    inf.addHandlers(rec.handlers);
    inf.start();
    try {
      await inf.waitForSync();
      await waitFor('watch to start', () => events.some((e) => e.type === 'watching'));
      inf.disconnectFor(3000);
      // While disconnected: changes, then a compaction of etcd at the newest revision.
      await client.patch(rt, ns, 'change', 'merge', { metadata: { labels: { v: '2' } } });
      await client.delete(rt, ns, 'remove');
      await client.create(rt, tpl('added', '1'));
      await compactEtcd();
      await waitFor('re-list after 410', () => events.filter((e) => e.type === 'listed').length >= 2, 30_000);
      assert.ok(events.some((e) => e.type === 'watch-error' && e.gone), 'a 410 Gone was observed');
      const want = await serverView(client, rt, ns);
      assert.deepEqual(cacheView(inf), want);
      assert.deepEqual(replay(rec.calls), want, 'handler calls replay to the server state');
      assert.deepEqual(
        rec.calls.slice(3).map((c) => `${c.type}:${c.name}`).sort(),
        ['add:added', 'delete:remove', 'update:change'],
        'the re-list delivers exactly the missed changes',
      );
    } finally {
      await inf.stop();
    }
  });

  it('resumes across a kube-apiserver restart without lost or duplicated handler calls', async () => {
    const ns = await freshNamespace(client, 'restart');
    for (let i = 0; i < 5; i++) await client.create(core.configMaps, cm(ns, `cm-${i}`, { v: '1' }));
    const events: InformerLifecycleEvent[] = [];
    const rec = recorder<ConfigMap>();
    const inf = new Informer<ConfigMap>(client, core.configMaps, {
      namespace: ns,
      backoffInitialMs: 200,
      backoffMaxMs: 2000,
      onEvent: (e) => events.push(e),
    });
    inf.addHandlers(rec.handlers);
    inf.start();
    try {
      await inf.waitForSync();
      await client.patch(core.configMaps, ns, 'cm-0', 'merge', { data: { before: 'restart' } });
      await waitFor('update seen', () => rec.calls.length === 6);
      await restartPeer('kube-apiserver');
      await client.patch(core.configMaps, ns, 'cm-1', 'merge', { data: { after: 'restart' } });
      await client.delete(core.configMaps, ns, 'cm-2');
      await client.create(core.configMaps, cm(ns, 'cm-new', { v: '1' }));
      await waitFor('cache to converge after restart', async () => {
        const want = await serverView(client, core.configMaps, ns);
        return JSON.stringify([...cacheView(inf)].sort()) === JSON.stringify([...want].sort());
      }, 60_000);
      await sleep(500); // let any stray duplicate arrive before we judge
      assert.deepEqual(replay(rec.calls), await serverView(client, core.configMaps, ns));
      assert.ok(events.some((e) => e.type === 'watch-error'), 'the restart was noticed');
      assert.equal(inf.healthy, true);
    } finally {
      await inf.stop();
    }
  });
});

/** Compacts etcd's history up to its current revision (etcd v3 JSON gateway). */
async function compactEtcd(): Promise<void> {
  const base = `http://127.0.0.1:${ports.etcdClient}`;
  const r = await fetch(`${base}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: Buffer.from('/').toString('base64') }) });
  const rev = ((await r.json()) as { header: { revision: string } }).header.revision;
  const c = await fetch(`${base}/v3/kv/compaction`, { method: 'POST', body: JSON.stringify({ revision: rev, physical: true }) });
  assert.equal(c.status, 200, `etcd compaction failed: ${await c.text()}`);
}
