// The kube client's signal against the real kube-apiserver: a watch or a request aborted by its
// signal ends at once with the signal's reason, and its socket is freed (not returned to the pool).
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeClient } from '../../../src/kube/client.ts';
import { core, type KubeObject } from '../../../src/kube/types.ts';
import { clientMetrics } from '../../../src/kube/metrics.ts';
import { adminClient, freshNamespace, peers, uniqueName } from '../helpers.ts';

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

/** Sockets the client's agent holds, busy and idle (the agent is private: read for the test). */
function sockets(client: KubeClient): { busy: number; idle: number } {
  const agent = (client as unknown as { agent: { sockets: Record<string, unknown[]>; freeSockets: Record<string, unknown[]> } }).agent;
  const count = (m: Record<string, unknown[]>) => Object.values(m).reduce((n, l) => n + l.length, 0);
  return { busy: count(agent.sockets), idle: count(agent.freeSockets) };
}

async function requestErrors(): Promise<number> {
  const m = await clientMetrics.requests.get();
  return m.values.filter((v) => v.labels.code === '<error>').reduce((n, v) => n + v.value, 0);
}

describe('KubeClient cancellation against kube-apiserver', () => {
  let client: KubeClient;
  let ns: string;
  before(async () => {
    await peers();
    client = await adminClient();
    ns = await freshNamespace(client, 'cancel');
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
    const busyBefore = sockets(client).busy;
    const abortedAt = performance.now();
    ctl.abort();
    await assert.rejects(watching, (e: unknown) => (e as Error).name === 'AbortError');
    assert.ok(performance.now() - abortedAt < 500, `ended ${Math.round(performance.now() - abortedAt)} ms after the abort`);
    await new Promise((r) => setImmediate(r));
    assert.equal(sockets(client).busy, busyBefore - 1, 'the watch socket is destroyed, not kept');
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
    const busyBefore = sockets(client).busy;
    await assert.rejects(client.get(core.configMaps, ns, 'x', { signal: AbortSignal.abort() }), (e: unknown) => (e as Error).name === 'AbortError');
    await assert.rejects(
      client.create<ConfigMap>(core.configMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: uniqueName('never'), namespace: ns } }, { signal: AbortSignal.abort() }),
      (e: unknown) => (e as Error).name === 'AbortError',
    );
    assert.equal(await requestErrors(), errorsBefore, 'no request was sent');
    assert.equal(sockets(client).busy, busyBefore);
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
