// CoalescingReader: joining, batching windows and refresh-ahead.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CoalescingReader, type StoreHandle } from '../../../src/providers/reader.ts';
import type { ProviderClient, RemoteValue, RemoteValueRef } from '../../../src/providers/provider.ts';

function fakeStore(): { store: StoreHandle; batches: string[][]; singles: string[] } {
  const batches: string[][] = [];
  const singles: string[] = [];
  let n = 0;
  const val = (k: string): RemoteValue => ({ value: new TextEncoder().encode(`${k}#${++n}`) });
  const client: ProviderClient = {
    getValue: async (r: RemoteValueRef) => (singles.push(r.key), val(r.key)),
    getValues: async (refs) => (batches.push(refs.map((r) => r.key)), refs.map((r) => val(r.key))),
    findValues: async () => new Map(),
    validate: async () => undefined,
    close: async () => undefined,
  };
  return { store: { id: 's1', provider: 'fake', client }, batches, singles };
}

describe('CoalescingReader', () => {
  it('sends reads that may use a cached value as one batch within the window, and joins identical reads', async () => {
    const { store, batches, singles } = fakeStore();
    const r = new CoalescingReader({ batchWindowMs: 30, freshBatchWindowMs: 1 });
    const keys = Array.from({ length: 12 }, (_, i) => `k${i}`);
    const reads = [...keys, ...keys].map((k) => r.read(store, { key: k }, 60_000));
    await Promise.all(reads);
    assert.deepEqual(batches, [keys]);
    assert.deepEqual(singles, []);
  });

  it('a fresh read does not wait for the long window', async () => {
    const { store, singles } = fakeStore();
    const r = new CoalescingReader({ batchWindowMs: 5_000, freshBatchWindowMs: 1 });
    const t0 = performance.now();
    void r.read(store, { key: 'slow' }, 60_000);
    await r.read(store, { key: 'fresh' }, 0);
    assert.ok(performance.now() - t0 < 1000);
    assert.equal(singles.length, 0, 'both went in one batch');
  });

  it('fills a batch with values past half their allowed age, so later refreshes hit the cache', async () => {
    const { store, batches, singles } = fakeStore();
    let now = 0;
    const r = new CoalescingReader({ batchWindowMs: 1, freshBatchWindowMs: 1, now: () => now });
    await Promise.all(['a', 'b', 'c'].map((k) => r.read(store, { key: k }, 60_000)));
    assert.equal(batches.length, 1);
    now = 20_000; // younger than half of 60 s: not refreshed ahead
    await r.read(store, { key: 'd' }, 60_000);
    assert.deepEqual(singles, ['d'], 'a batch of one is a single read');
    now = 40_000; // a, b, c are past half their age; d is not
    await r.read(store, { key: 'e' }, 60_000);
    assert.deepEqual(batches[1], ['e', 'a', 'b', 'c']);
    now = 90_000; // without refresh-ahead a, b, c would be expired now
    await Promise.all(['a', 'b', 'c'].map((k) => r.read(store, { key: k }, 60_000)));
    assert.equal(batches.length, 2, 'served from the cache');
  });

  it('does not refresh ahead values nobody reads any more, nor fresh-only reads', async () => {
    const { store, batches, singles } = fakeStore();
    let now = 0;
    const r = new CoalescingReader({ batchWindowMs: 1, freshBatchWindowMs: 1, now: () => now });
    await r.read(store, { key: 'fresh-only' }, 0);
    await r.read(store, { key: 'unused' }, 10_000);
    now = 30_000;
    await r.read(store, { key: 'x' }, 60_000);
    assert.deepEqual(batches, []);
    assert.deepEqual(singles, ['fresh-only', 'unused', 'x']);
  });

  it('fills a batch with keys the controller will read soon (read-ahead), 20 at a time', async () => {
    const { store, batches, singles } = fakeStore();
    const upcoming = Array.from({ length: 45 }, (_, i) => ({ key: `u${i}` }));
    const r = new CoalescingReader({ batchWindowMs: 1, freshBatchWindowMs: 1, readAhead: (_s, room, wanted) => upcoming.filter(wanted).slice(0, room) });
    await r.read(store, { key: 'u0' }, 60_000);
    assert.deepEqual(batches[0], upcoming.slice(0, 20).map((u) => u.key), 'one call carries the read and 19 upcoming keys');
    await Promise.all(upcoming.slice(0, 20).map((u) => r.read(store, u, 60_000)));
    assert.equal(batches.length, 1, 'the upcoming keys are served from the cache');
    await r.read(store, { key: 'u20' }, 60_000);
    assert.deepEqual(batches[1], upcoming.slice(20, 40).map((u) => u.key));
    assert.deepEqual(singles, []);
  });
});
