// The kube client's signal against the real kube-apiserver, over HTTP/2 (the default) and
// HTTP/1.1: a watch or a request aborted by its signal ends at once with the signal's reason, and
// its stream is closed, or its socket freed (not returned to the pool).
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KubeClient } from '../../../src/kube/client.ts';
import type { Http2Connection } from '../../../src/kube/http2.ts';
import { core, type KubeObject } from '../../../src/kube/types.ts';
import { clientMetrics } from '../../../src/kube/metrics.ts';
import { freshNamespace, onCleanup, peers, uniqueName } from '../helpers.ts';

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

/**
 * What the client holds busy for open calls: sockets of its HTTP/1.1 agent, plus streams of its
 * HTTP/2 connection (both private: read for the test).
 */
function busy(client: KubeClient): number {
  const { agent, h2 } = client as unknown as { agent: { sockets: Record<string, unknown[]> }; h2: Http2Connection | undefined };
  return Object.values(agent.sockets).reduce((n, l) => n + l.length, 0) + (h2?.openStreams ?? 0);
}

async function requestErrors(): Promise<number> {
  const m = await clientMetrics.requests.get();
  return m.values.filter((v) => v.labels.code === '<error>').reduce((n, v) => n + v.value, 0);
}

for (const http2 of [true, false]) describe(`KubeClient cancellation against kube-apiserver over ${http2 ? 'HTTP/2' : 'HTTP/1.1'}`, () => {
  let client: KubeClient;
  let ns: string;
  before(async () => {
    const env = await peers();
    client = await KubeClient.create({ kubeconfig: env.KUBECONFIG, qps: 500, burst: 1000, fieldManager: 'tessera-test', http2 });
    onCleanup(() => client.close());
    ns = await freshNamespace(client, 'cancel');
    assert.equal(client.protocol, http2 ? 'h2' : 'http/1.1');
  });

  it('a watch aborted by its signal ends at once with the signal reason and frees its socket', async () => {
    const ctl = new AbortController();
    const events: string[] = [];
    const t0 = performance.now();
    const watching = (async () => {
      for await (const ev of client.watch<ConfigMap>(core.configMaps, ns, { signal: ctl.signal, timeoutSeconds: 300 })) events.push(ev.type);
    })();
    const name = uniqueName('cm');
    await client.create<ConfigMap>(core.configMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns } });
    while (!events.includes('ADDED') && performance.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 20));
    assert.ok(events.includes('ADDED'), 'the watch was open and streaming');
    const busyBefore = busy(client);
    const abortedAt = performance.now();
    ctl.abort();
    await assert.rejects(watching, (e: unknown) => (e as Error).name === 'AbortError');
    assert.ok(performance.now() - abortedAt < 500, `ended ${Math.round(performance.now() - abortedAt)} ms after the abort`);
    await new Promise((r) => setImmediate(r));
    assert.equal(busy(client), busyBefore - 1, 'the watch stream is closed, or its socket destroyed, not kept');
  });

  it('a request with a deadline signal rejects with its TimeoutError; one aborted before it starts sends nothing', async () => {
    // A list that waits for a resourceVersion far in the future never answers by itself: the
    // apiserver holds it (up to its own 3 s limit) waiting for the revision; the signal ends it first.
    const current = await client.list(core.configMaps, ns, { limit: 1 });
    const future = String(Number(current.metadata.resourceVersion) + 1_000_000);
    const t0 = performance.now();
    await assert.rejects(
      client.list(core.configMaps, ns, { resourceVersion: future, resourceVersionMatch: 'NotOlderThan', signal: AbortSignal.timeout(300) }),
      (e: unknown) => (e as Error).name === 'TimeoutError',
    );
    const took = performance.now() - t0;
    assert.ok(took >= 250 && took < 1_500, `ended after ${Math.round(took)} ms`);

    const errorsBefore = await requestErrors();
    const busyBefore = busy(client);
    await assert.rejects(client.get(core.configMaps, ns, 'x', { signal: AbortSignal.abort() }), (e: unknown) => (e as Error).name === 'AbortError');
    await assert.rejects(
      client.create<ConfigMap>(core.configMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: uniqueName('never'), namespace: ns } }, { signal: AbortSignal.abort() }),
      (e: unknown) => (e as Error).name === 'AbortError',
    );
    assert.equal(await requestErrors(), errorsBefore, 'no request was sent');
    assert.equal(busy(client), busyBefore);
    assert.deepEqual((await client.list<ConfigMap>(core.configMaps, ns)).items.filter((c) => c.metadata?.name?.startsWith('never')), [], 'the aborted create did not happen');
  });

  it('delete and patch pass their signal and keep their own options', async () => {
    const name = uniqueName('cm');
    const signal = new AbortController().signal;
    await client.create<ConfigMap>(core.configMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data: { a: '1' } }, { signal });
    const patched = await client.patch<ConfigMap>(core.configMaps, ns, name, 'merge', { data: { b: '2' } }, { signal });
    assert.deepEqual(patched.data, { a: '1', b: '2' });
    // The signal is not sent as a DeleteOptions field: a stale uid precondition still refuses.
    await assert.rejects(client.delete(core.configMaps, ns, name, { preconditions: { uid: 'not-the-uid' }, signal }), /Precondition failed|precondition/i);
    await client.delete(core.configMaps, ns, name, { preconditions: { uid: patched.metadata!.uid! }, signal });
    assert.equal(await client.tryGet(core.configMaps, ns, name, { signal }), undefined);
  });
});
