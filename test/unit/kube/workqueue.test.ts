import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue } from '../../../src/kube/workqueue.ts';
import { Controller, TerminalError } from '../../../src/kube/controller.ts';
import { ExponentialBackoff, TokenBucket } from '../../../src/kube/ratelimit.ts';
import { createLogger } from '../../../src/log.ts';
import { Writable } from 'node:stream';

const silent = createLogger('error', new Writable({ write: (_c, _e, cb) => cb() }));
const tick = () => new Promise((r) => setImmediate(r));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('WorkQueue', () => {
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
