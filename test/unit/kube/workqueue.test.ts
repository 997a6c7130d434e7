import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { queuedKeys, WorkQueue } from '../../../src/kube/workqueue.ts';
import { Controller, TerminalError } from '../../../src/kube/controller.ts';
import { ExponentialBackoff } from '../../../src/kube/ratelimit.ts';
import { TokenBucket } from '../../../src/token-bucket.ts';
import { createLogger } from '../../../src/log.ts';
import { Writable } from 'node:stream';

const silent = createLogger('error', new Writable({ write: (_c, _e, cb) => cb() }));
const tick = () => new Promise((r) => setImmediate(r));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('WorkQueue', () => {
  it('counts the keys waiting in every queue of the process until the queue shuts down', async () => {
    const before = queuedKeys();
    const a = new WorkQueue({ name: 'backlog-a' });
    const b = new WorkQueue({ name: 'backlog-b' });
    a.add('x');
    a.add('y');
    b.add('z');
    b.addAfter('later', 60_000);
    assert.equal(queuedKeys() - before, 3, 'queued keys count; a delayed one does not');
    assert.equal(await a.get(), 'x');
    assert.equal(queuedKeys() - before, 2, 'a key being processed does not');
    b.shutDown();
    assert.equal(queuedKeys() - before, 1, 'a queue that shut down does not');
    a.shutDown();
    assert.equal(queuedKeys(), before);
  });

  it('holds a queued key once however often it is added', async () => {
    const q = new WorkQueue({ name: 't' });
    q.add('a');
    q.add('a');
    q.add('b');
    q.add('a');
    assert.equal(q.len(), 2);
    assert.equal(await q.get(), 'a');
    assert.equal(await q.get(), 'b');
    assert.equal(q.len(), 0);
  });

  it('never hands a key to two workers; a key added while processing runs again after', async () => {
    const q = new WorkQueue({ name: 't' });
    q.add('a');
    const first = await q.get();
    assert.equal(first, 'a');
    q.add('a'); // changed while processing
    assert.equal(q.len(), 0, 'not handed out while in progress');
    let second: string | undefined;
    void q.get().then((k) => (second = k));
    await tick();
    assert.equal(second, undefined, 'a second worker must not receive the in-progress key');
    q.done('a');
    await tick();
    assert.equal(second, 'a', 'processed again after done');
    q.done('a');
    assert.equal(q.len(), 0);
  });

  it('serves high priority keys before low ones and promotes a waiting key', async () => {
    const q = new WorkQueue({ name: 't' });
    q.add('refresh-1', 'low');
    q.add('refresh-2', 'low');
    q.add('new-1', 'high');
    q.add('refresh-2', 'high'); // changed: promoted
    assert.deepEqual([await q.get(), await q.get(), await q.get()], ['new-1', 'refresh-2', 'refresh-1']);
  });

  it('does not demote: adding a high key again at low keeps it high', async () => {
    const q = new WorkQueue({ name: 't' });
    q.add('x', 'low');
    q.add('a', 'high');
    q.add('a', 'low');
    assert.equal(await q.get(), 'a');
  });

  it('addAfter delays, keeps the earliest time, and cancelDelayed drops it', async () => {
    const q = new WorkQueue({ name: 't' });
    q.addAfter('a', 200);
    q.addAfter('a', 20); // earlier wins
    q.addAfter('a', 500); // later ignored
    q.addAfter('b', 30);
    q.cancelDelayed('b');
    assert.equal(q.len(), 0);
    assert.equal(q.delayedLen(), 1);
    await sleep(60);
    assert.equal(q.len(), 1);
    assert.equal(await q.get(), 'a');
    await sleep(50);
    assert.equal(q.len(), 0, 'b was cancelled');
  });

  it('backs off exponentially per key, capped, and forget resets', () => {
    const now = 0;
    const q = new WorkQueue({ name: 't', backoffBaseMs: 10, backoffMaxMs: 100, retryQps: 1e9, retryBurst: 1e9, now: () => now });
    const delays = [1, 2, 3, 4, 5, 6].map(() => q.addRateLimited('k'));
    assert.deepEqual(delays, [10, 20, 40, 80, 100, 100]);
    assert.equal(q.numRequeues('k'), 6);
    assert.equal(q.addRateLimited('other'), 10, 'backoff is per key');
    q.forget('k');
    assert.equal(q.addRateLimited('k'), 10);
    q.shutDown();
  });

  it('applies the global retry rate limit across keys', () => {
    let now = 0;
    const q = new WorkQueue({ name: 't', backoffBaseMs: 1, backoffMaxMs: 1, retryQps: 10, retryBurst: 2, now: () => now });
    const d = ['a', 'b', 'c', 'd'].map((k) => q.addRateLimited(k));
    assert.deepEqual(d.slice(0, 2), [1, 1], 'burst passes with the per-key delay');
    assert.equal(Math.round(d[2]!), 100, 'third waits for a token at 10/s');
    assert.equal(Math.round(d[3]!), 200);
    now = 1000;
    assert.equal(q.addRateLimited('e'), 1, 'tokens refill with time');
    q.shutDown();
  });

  it('shutDown releases waiting getters; shutDownWithDrain waits for in-progress keys', async () => {
    const q = new WorkQueue({ name: 't' });
    const waiting = q.get();
    q.shutDown();
    assert.equal(await waiting, undefined);

    const q2 = new WorkQueue({ name: 't2' });
    q2.add('a');
    const k = await q2.get();
    let drained = false;
    const p = q2.shutDownWithDrain(1000).then((ok) => (drained = ok));
    await tick();
    assert.equal(drained, false);
    q2.add('b');
    assert.equal(q2.len(), 0, 'no adds after shutdown');
    q2.done(k!);
    await p;
    assert.equal(drained, true);
  });
});

describe('Controller', () => {
  it('runs N workers, never one key concurrently, and re-runs a key changed meanwhile', async () => {
    const active = new Set<string>();
    let maxParallel = 0;
    let overlaps = 0;
    const runs = new Map<string, number>();
    const c = new Controller({
      name: 'unit-parallel',
      workers: 4,
      logger: silent,
      reconcile: async (key) => {
        if (active.has(key)) overlaps++;
        active.add(key);
        maxParallel = Math.max(maxParallel, active.size);
        await sleep(20);
        active.delete(key);
        runs.set(key, (runs.get(key) ?? 0) + 1);
        return {};
      },
    });
    c.start();
    for (let i = 0; i < 8; i++) c.enqueue(`k${i}`);
    await sleep(5);
    c.enqueue('k0'); // k0 is in progress: must run again after, not in parallel
    await sleep(120);
    await c.stop();
    assert.equal(overlaps, 0);
    assert.equal(maxParallel, 4);
    assert.equal(runs.get('k0'), 2);
    assert.equal(runs.get('k7'), 1);
  });

  it('decides after reconcile: requeueAfter, retry with backoff on error, no retry on TerminalError', async () => {
    const calls: Record<string, number> = {};
    const c = new Controller({
      name: 'unit-results',
      workers: 1,
      logger: silent,
      backoffBaseMs: 10,
      backoffMaxMs: 40,
      reconcile: async (key) => {
        calls[key] = (calls[key] ?? 0) + 1;
        if (key === 'flaky' && calls[key]! < 3) throw new Error('transient');
        if (key === 'bad') throw new TerminalError('invalid spec');
        if (key === 'periodic') return { requeueAfter: 30 };
        return {};
      },
    });
    c.start();
    c.enqueue('flaky');
    c.enqueue('bad');
    c.enqueue('periodic');
    await sleep(150);
    await c.stop();
    assert.equal(calls.flaky, 3, 'retried until success');
    assert.equal(c.queue.numRequeues('flaky'), 0, 'forgotten after success');
    assert.equal(calls.bad, 1, 'terminal errors are not retried');
    assert.ok(calls.periodic! >= 3, `periodic requeue ran ${calls.periodic} times`);
  });
});

describe('rate limiters', () => {
  it('TokenBucket allows a burst then paces', () => {
    let now = 0;
    const b = new TokenBucket(2, 2, () => now);
    assert.equal(b.reserve(), 0);
    assert.equal(b.reserve(), 0);
    assert.equal(b.reserve(), 500);
    now = 2000;
    assert.equal(b.reserve(), 0);
  });
  it('ExponentialBackoff never overflows', () => {
    const e = new ExponentialBackoff(5, 300_000);
    let last = 0;
    for (let i = 0; i < 2000; i++) last = e.when('k');
    assert.equal(last, 300_000);
  });
});

describe('timer limits', () => {
  it('a delayed add of 10,000 h does not fire (Node would fire an overflowing timer at once)', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const q = new WorkQueue({ name: 'unit-overflow' });
      q.addAfter('far', 10_000 * 3_600_000);
      q.addAfter('nan', Number.NaN);
      q.addAfter('inf', Number.POSITIVE_INFINITY);
      await sleep(50);
      assert.equal(q.len(), 0, 'nothing became due');
      assert.equal(q.delayedLen(), 3, 'all three still wait');
      q.shutDown();
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(warnings.filter((w) => w === 'TimeoutOverflowWarning'), []);
  });

  it('a backoff capped far beyond the timer limit waits, it does not fire', async () => {
    const q = new WorkQueue({ name: 'unit-overflow-backoff', backoffBaseMs: 2 ** 40, backoffMaxMs: Number.MAX_SAFE_INTEGER, retryQps: Infinity });
    const delay = q.addRateLimited('k');
    assert.ok(delay > 2 ** 31, 'the reported delay is the real one');
    await sleep(50);
    assert.equal(q.len(), 0);
    assert.equal(q.delayedLen(), 1);
    q.shutDown();
  });

  it('a Controller requeueAfter of 10,000 h runs the key once, not in a loop', async () => {
    let runs = 0;
    const c = new Controller({ name: 'unit-overflow-ctrl', workers: 2, logger: silent, reconcile: async () => (runs++, { requeueAfter: 10_000 * 3_600_000 }) });
    c.start();
    c.enqueue('k');
    await sleep(80);
    await c.stop();
    assert.equal(runs, 1);
  });
});

describe('bulkheads (per-group caps)', () => {
  const groupOf = (key: string) => [`store:${key.split('/')[0]}`];

  it('never hands out more keys of a group than its cap, and parked keys run when one is done', async () => {
    const q = new WorkQueue({ name: 'unit-bulkhead', groupsOf: groupOf, groupLimit: () => 2 });
    for (const k of ['slow/1', 'slow/2', 'slow/3', 'slow/4', 'fast/1', 'fast/2']) q.add(k);
    const got = [await q.get(), await q.get(), await q.get(), await q.get()];
    assert.deepEqual(got, ['slow/1', 'slow/2', 'fast/1', 'fast/2'], 'slow/3 and slow/4 wait; fast keys are served');
    assert.equal(q.inFlightOf('store:slow'), 2);
    assert.equal(q.parkedLen(), 2);
    let fifth: string | undefined;
    void q.get().then((k) => (fifth = k));
    await tick();
    assert.equal(fifth, undefined, 'no slow key while two are in progress');
    q.done('fast/1');
    await tick();
    assert.equal(fifth, undefined, 'a fast key done frees no slow room');
    q.done('slow/1');
    await tick();
    assert.equal(fifth, 'slow/3', 'the oldest parked key goes to the waiting worker');
    assert.equal(q.inFlightOf('store:slow'), 2);
    assert.equal(q.numRequeues('slow/4'), 0, 'parking is not a retry');
  });

  it('keys parked behind a full group are not queued work for queuedKeys()', async () => {
    const before = queuedKeys();
    const q = new WorkQueue({ name: 'unit-bulkhead-backlog', groupsOf: groupOf, groupLimit: () => 1 });
    for (const k of ['slow/1', 'slow/2', 'slow/3']) q.add(k);
    assert.equal(queuedKeys() - before, 3);
    assert.equal(await q.get(), 'slow/1');
    let next: string | undefined;
    void q.get().then((k) => (next = k));
    await tick();
    assert.equal(next, undefined);
    assert.equal(q.parkedLen(), 2);
    assert.equal(queuedKeys() - before, 0, 'both wait for their group, not for a worker');
    q.shutDown();
  });

  it('a key added while parked is held once and keeps its place', async () => {
    const q = new WorkQueue({ name: 'unit-bulkhead-dup', groupsOf: groupOf, groupLimit: () => 1 });
    q.add('s/1');
    q.add('s/2');
    assert.equal(await q.get(), 's/1');
    q.add('t/1');
    assert.equal(await q.get(), 't/1');
    q.add('s/2', 'high');
    q.add('s/2');
    assert.equal(q.len(), 1);
    q.done('s/1');
    assert.equal(await q.get(), 's/2');
    assert.equal(q.len(), 0);
  });

  it('fairness with the real queue and Controller: a store whose reconciles hang holds only its cap', async () => {
    const release: Array<() => void> = [];
    const finished: string[] = [];
    let hungNow = 0;
    let hungMax = 0;
    const c = new Controller({
      name: 'unit-bulkhead-ctrl',
      workers: 8,
      logger: silent,
      groupsOf: groupOf,
      groupLimit: () => 2,
      reconcile: async (key) => {
        if (key.startsWith('hostile/')) {
          hungNow++;
          hungMax = Math.max(hungMax, hungNow);
          await new Promise<void>((r) => release.push(r));
          hungNow--;
        } else {
          await sleep(2);
        }
        finished.push(key);
        return {};
      },
    });
    c.start();
    // The hostile store's keys arrive first and outnumber the workers.
    for (let i = 0; i < 20; i++) c.enqueue(`hostile/${i}`);
    for (let i = 0; i < 30; i++) c.enqueue(`tenant-${i % 3}/${i}`);
    const t0 = performance.now();
    while (finished.filter((k) => !k.startsWith('hostile/')).length < 30 && performance.now() - t0 < 2000) await sleep(5);
    assert.equal(finished.filter((k) => !k.startsWith('hostile/')).length, 30, 'every other store is served while one hangs');
    assert.equal(hungMax, 2, 'the hanging store never held more than its cap of workers');
    assert.equal(c.queue.parkedLen(), 18);
    // Once the hanging reconciles return, the parked ones run.
    while (finished.filter((k) => k.startsWith('hostile/')).length < 20 && performance.now() - t0 < 4000) {
      release.splice(0).forEach((r) => r());
      await sleep(2);
    }
    assert.equal(finished.filter((k) => k.startsWith('hostile/')).length, 20);
    await c.stop();
  });
});

describe('bulkheads at scale', () => {
  it('10,000 keys of one capped group drain in linear time', async () => {
    const q = new WorkQueue({ name: 'unit-bulkhead-scale', groupsOf: () => ['one'], groupLimit: () => 4 });
    for (let i = 0; i < 10_000; i++) q.add(`k${i}`);
    const t0 = performance.now();
    let served = 0;
    const inHand: string[] = [];
    while (served < 10_000) {
      while (inHand.length < 4) {
        const k = await q.get();
        inHand.push(k!);
      }
      assert.equal(q.inFlightOf('one'), 4);
      q.done(inHand.shift()!);
      served++;
      if (q.len() === 0 && inHand.length === 0) break;
      if (served + inHand.length >= 10_000) {
        inHand.splice(0).forEach((k) => (q.done(k), served++));
      }
    }
    assert.equal(served, 10_000);
    assert.ok(performance.now() - t0 < 2000, `took ${Math.round(performance.now() - t0)} ms`);
  });
});
