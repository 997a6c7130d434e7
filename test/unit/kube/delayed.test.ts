// Delayed keys under one timer (src/kube/delayed.ts): each key comes due once, in time order, at
// its earliest schedule; cancelled and replaced keys never fire; and 10,000 waiting keys hold a
// fraction of what a timer each held.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { liveHeap } from '../heap.ts';
import { DelayedKeys } from '../../../src/kube/delayed.ts';
import { WorkQueue } from '../../../src/kube/workqueue.ts';


describe('DelayedKeys', () => {
  it('fires each key once, in due order, and never a cancelled or replaced schedule', async () => {
    const fired: string[] = [];
    const d = new DelayedKeys<string>(() => performance.now(), (k, v) => fired.push(`${k}:${v}`));
    const t = performance.now();
    d.set('c', t + 60, 'c1');
    d.set('a', t + 20, 'a1');
    d.set('b', t + 40, 'b1');
    d.set('x', t + 30, 'x1');
    d.delete('x');
    d.set('c', t + 10, 'c2'); // replaced: earlier
    d.set('b', t + 80, 'b2'); // replaced: later
    assert.equal(d.size, 3);
    assert.equal(d.dueAt('b'), t + 80);
    await sleep(150);
    assert.deepEqual(fired, ['c:c2', 'a:a1', 'b:b2']);
    assert.equal(d.size, 0);
  });

  it('what the timer was armed for fires even when the owner\'s clock stands still', async () => {
    const fired: string[] = [];
    const d = new DelayedKeys<number>(() => 0, (k) => fired.push(k));
    d.set('a', 10, 0);
    d.set('b', 30, 0);
    await sleep(100);
    assert.deepEqual(fired, ['a', 'b']);
  });

  it('keys rescheduled many times do not pile up in the heap', async () => {
    const fired: string[] = [];
    let now = 0;
    const d = new DelayedKeys<number>(() => now, (k) => fired.push(k));
    for (let round = 0; round < 200; round++) for (let k = 0; k < 50; k++) d.set(`k${k}`, 1_000_000 - round, round);
    assert.equal(d.size, 50);
    assert.ok((d as unknown as { heap: unknown[] }).heap.length <= 2 * 50 + 64 + 1, 'stale entries are dropped');
    now = 2_000_000;
    d.clear();
    assert.equal(d.size, 0);
  });

  it('10,000 keys waiting in a work queue hold under 150 bytes each (a timer each held ~530)', () => {
    const q = new WorkQueue({ name: 'unit-delayed-heap' });
    const keys = Array.from({ length: 10_000 }, (_, i) => `namespace-${i % 100}/external-secret-${i}`);
    const before = liveHeap();
    for (const [i, k] of keys.entries()) q.addAfter(k, 3_600_000 + i);
    const perKey = Math.round((liveHeap() - before) / keys.length);
    assert.equal(q.delayedLen(), 10_000);
    q.shutDown();
    assert.equal(q.delayedLen(), 0);
    assert.ok(perKey < 150, `${perKey} bytes per delayed key`);
  });
});
