import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { settledWithin, startDeadline, withDeadline } from '../../src/deadline.ts';
import { liveHeap } from './heap.ts';

describe('startDeadline', () => {
  it('aborts with a TimeoutError when the time runs out, and says it expired', async () => {
    const d = startDeadline(new AbortController().signal, 20);
    assert.equal(d.signal.aborted, false);
    await sleep(60);
    assert.equal(d.signal.aborted, true);
    assert.equal(d.expired, true);
    assert.equal((d.signal.reason as Error).name, 'TimeoutError');
    d.release();
  });

  it('aborts with the parent\'s reason when the parent aborts first, and did not expire', () => {
    const parent = new AbortController();
    const d = startDeadline(parent.signal, 60_000);
    const reason = new Error('shutting down');
    parent.abort(reason);
    assert.equal(d.signal.aborted, true);
    assert.equal(d.signal.reason, reason);
    assert.equal(d.expired, false);
    d.release();
  });

  it('starts aborted under an aborted parent', () => {
    const parent = new AbortController();
    parent.abort(new Error('gone'));
    const d = startDeadline(parent.signal, 60_000);
    assert.equal(d.signal.aborted, true);
    d.release();
  });

  it('once released, neither the timer nor the parent aborts it any more', async () => {
    const parent = new AbortController();
    const d = startDeadline(parent.signal, 20);
    d.release();
    await sleep(60);
    parent.abort(new Error('later'));
    assert.equal(d.signal.aborted, false);
    assert.equal(d.expired, false);
  });

  it('leaves nothing alive after release: 100,000 released deadlines under one parent cost no heap', async () => {
    const parent = new AbortController();
    // Once before measuring, so that compiled code and grown tables are not counted.
    for (let i = 0; i < 20_000; i++) startDeadline(parent.signal, 600_000).release();
    const before = liveHeap();
    for (let i = 0; i < 100_000; i++) startDeadline(parent.signal, 600_000).release();
    const released = liveHeap() - before;
    // The pattern it replaces, for scale: the same number of AbortSignal.any over a timeout stays
    // alive until each timeout fires (about 1 KB each).
    const kept: AbortSignal[] = [];
    for (let i = 0; i < 20_000; i++) kept.push(AbortSignal.any([parent.signal, AbortSignal.timeout(600_000)]));
    const timeouts = liveHeap() - before - released;
    // Heap figures move by a megabyte or two between collections; a leak of even 50 bytes per
    // deadline would be 5 MB here.
    assert.ok(released < 5_000_000, `100,000 released deadlines still hold ${released} bytes`);
    assert.ok(timeouts > 8_000_000, `20,000 AbortSignal.any over timeouts hold only ${timeouts} bytes: the comparison no longer shows anything`);
    kept.length = 0;
  });
});

describe('withDeadline and settledWithin', () => {
  it('withDeadline hands its work a signal that aborts at the deadline, with a TimeoutError', async () => {
    const err = await withDeadline(undefined, 20, (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)))).catch((e: unknown) => e);
    assert.equal((err as DOMException).name, 'TimeoutError');
    assert.equal(await withDeadline(undefined, 1_000, async () => 'done'), 'done');
  });

  it('settledWithin says whether the promise settled in time; a rejection counts as settled', async () => {
    assert.equal(await settledWithin(sleep(5), 1_000), true);
    assert.equal(await settledWithin(Promise.reject(new Error('x')), 1_000), true);
    assert.equal(await settledWithin(new Promise(() => undefined), 20), false);
  });
});
