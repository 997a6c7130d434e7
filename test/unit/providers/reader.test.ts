// CoalescingReader: joining, batching windows and refresh-ahead.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CoalescingReader, READ_AHEAD_IDLE_MS, type StoreHandle } from '../../../src/providers/reader.ts';
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
    const r = new CoalescingReader({ batchWindowMs: 1, freshBatchWindowMs: 1, readAheadDepth: 0, readAhead: (_s, room, wanted) => upcoming.filter(wanted).slice(0, room) });
    await r.read(store, { key: 'u0' }, 60_000);
    assert.deepEqual(batches[0], upcoming.slice(0, 20).map((u) => u.key), 'one call carries the read and 19 upcoming keys');
    await Promise.all(upcoming.slice(0, 20).map((u) => r.read(store, u, 60_000)));
    assert.equal(batches.length, 1, 'the upcoming keys are served from the cache');
    await r.read(store, { key: 'u20' }, 60_000);
    assert.deepEqual(batches[1], upcoming.slice(20, 40).map((u) => u.key));
    assert.deepEqual(singles, []);
  });

  it('sends a batch that read-ahead fills at once, and waits the window for one it cannot fill', async () => {
    const { store, batches } = fakeStore();
    const upcoming = Array.from({ length: 45 }, (_, i) => ({ key: `u${i}` }));
    const r = new CoalescingReader({ batchWindowMs: 60_000, readAheadDepth: 0, readAhead: (_s, room, wanted) => upcoming.filter(wanted).slice(0, room) });
    const first = r.read(store, { key: 'u0' }, 60_000);
    await tick();
    assert.deepEqual(batches, [upcoming.slice(0, 20).map((u) => u.key)], 'sent without waiting 60 s');
    await first;
    const few = Array.from({ length: 5 }, (_, i) => ({ key: `f${i}` }));
    const r2 = new CoalescingReader({ batchWindowMs: 20, readAheadDepth: 0, readAhead: (_s, room, wanted) => few.filter(wanted).slice(0, room) });
    const t0 = performance.now();
    await r2.read(store, { key: 'other' }, 60_000);
    assert.ok(performance.now() - t0 >= 15, 'five keys do not fill a batch: it waited for its window');
    assert.deepEqual(batches[1], ['other', ...few.map((f) => f.key)]);
  });

  it('a key is read ahead once, whatever came of it, so read-ahead ends even when values expire at once', { timeout: 20_000 }, async () => {
    const calls: string[][] = [];
    const client: ProviderClient = {
      getValue: async () => assert.fail('no single reads here'),
      getValues: async (refs) => {
        calls.push(refs.map((r) => r.key));
        await new Promise((r) => setTimeout(r, 2));
        return refs.map((r) => (r.key.startsWith('bad') ? new Error('not found') : { value: new Uint8Array([1]) }));
      },
      findValues: async () => new Map(),
      validate: async () => undefined,
      close: async () => undefined,
    };
    const store: StoreHandle = { id: 's1', provider: 'fake', client };
    // Keys of ExternalSecrets that never sync: half fail, and the others' values expire at once
    // (a provider cache of 1 ms), so neither the cache nor a failure ends the pass.
    const upcoming = Array.from({ length: 100 }, (_, i) => ({ key: i % 2 ? `bad${i}` : `ok${i}` }));
    const r = new CoalescingReader({ batchWindowMs: 1, freshBatchWindowMs: 1, maxCacheMs: 1, readAheadDepth: 1, readAhead: (_s, room, wanted) => upcoming.filter(wanted).slice(0, room) });
    await r.read(store, { key: 'ok0' }, 60_000);
    for (let i = 0; i < 40; i++) await tick();
    // ok0 was read for a reader, not ahead: once expired, it is read ahead once too.
    assert.deepEqual(calls.flat().sort(), [...upcoming.map((u) => u.key), 'ok0'].sort(), 'every key read ahead exactly once');
    assert.equal(calls.length, 6);
  });
});

describe('CoalescingReader read-ahead pipeline', () => {
  it('keeps read-ahead batches in flight while ExternalSecrets wait, each key read once', async () => {
    const { store, calls } = slowStore(true);
    const upcoming = Array.from({ length: 100 }, (_, i) => ({ key: `u${i}` }));
    const r = new CoalescingReader({ batchWindowMs: 1, freshBatchWindowMs: 1, readAheadDepth: 2, readAhead: (_s, room, wanted) => upcoming.filter(wanted).slice(0, room) });
    const first = r.read(store, { key: 'u0' }, 60_000);
    await tick();
    assert.deepEqual(calls.map((c) => c.keys.length), [20, 20, 20], "the reader's batch and two read-ahead batches");
    assert.deepEqual(calls[1]!.keys, upcoming.slice(20, 40).map((u) => u.key));
    calls[1]!.release();
    await tick();
    assert.equal(calls.length, 4, 'an ended read-ahead batch is followed by the next');
    assert.deepEqual(calls[3]!.keys, upcoming.slice(60, 80).map((u) => u.key));
    for (const c of calls) c.release();
    await tick();
    assert.equal(calls.length, 5);
    calls[4]!.release();
    await first;
    await tick();
    assert.equal(calls.length, 5, 'nothing left to read ahead');
    assert.deepEqual(calls.flatMap((c) => c.keys).sort(), upcoming.map((u) => u.key).sort(), 'every key read exactly once');
    await Promise.all(upcoming.map((u) => r.read(store, u, 60_000)));
    assert.equal(calls.length, 5, 'the workers find every key cached');
  });

  it('stops when nobody reads the store any more (an edited store\'s old id), and resumes with the next read', async () => {
    const { store, calls } = slowStore(true);
    let now = 0;
    const upcoming = Array.from({ length: 100 }, (_, i) => ({ key: `u${i}` }));
    const r = new CoalescingReader({ batchWindowMs: 1, freshBatchWindowMs: 1, readAheadDepth: 1, now: () => now, readAhead: (_s, room, wanted) => upcoming.filter(wanted).slice(0, room) });
    void r.read(store, { key: 'u0' }, 60_000);
    await tick();
    assert.equal(calls.length, 2, "the reader's batch and one read-ahead batch");
    now = READ_AHEAD_IDLE_MS + 1;
    calls[1]!.release();
    await tick();
    assert.equal(calls.length, 2, 'no read of the store for longer than READ_AHEAD_IDLE_MS: no next batch');
    void r.read(store, { key: 'u99' }, 60_000);
    await tick();
    assert.equal(calls.length, 4, 'a new read starts the pipeline again');
    assert.deepEqual(calls[2]!.keys, ['u99', ...upcoming.slice(40, 59).map((u) => u.key)]);
    assert.deepEqual(calls[3]!.keys, upcoming.slice(59, 79).map((u) => u.key));
    for (const c of calls) c.release();
  });
});

/**
 * A store whose calls wait until released or aborted, recording each call's signal: what a slow
 * provider looks like to the reader.
 */
function slowStore(batch: boolean): {
  store: StoreHandle;
  calls: Array<{ keys: string[]; signal: AbortSignal | undefined; release: () => void }>;
} {
  const calls: Array<{ keys: string[]; signal: AbortSignal | undefined; release: () => void }> = [];
  const wait = (keys: string[], signal: AbortSignal | undefined) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ keys, signal, release: resolve });
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  const val = (k: string): RemoteValue => ({ value: new TextEncoder().encode(`value-of-${k}`) });
  const client: ProviderClient = {
    getValue: async (r, signal) => (await wait([r.key], signal), val(r.key)),
    ...(batch ? { getValues: async (refs: readonly RemoteValueRef[], signal?: AbortSignal) => (await wait(refs.map((r) => r.key), signal), refs.map((r) => val(r.key))) } : {}),
    findValues: async () => new Map(),
    validate: async () => undefined,
    close: async () => undefined,
  };
  return { store: { id: 's1', provider: 'fake', client }, calls };
}

const isAbort = (e: unknown) => (e as Error).name === 'AbortError' || (e as Error).name === 'TimeoutError';
const tick = () => new Promise((r) => setTimeout(r, 5));

describe('CoalescingReader cancellation', () => {
  it('one waiter aborting stops only its own wait; the shared call goes on for the others', async () => {
    const { store, calls } = slowStore(false);
    const r = new CoalescingReader({ freshBatchWindowMs: 1 });
    const a = new AbortController();
    const first = r.read(store, { key: 'k' }, 0, a.signal);
    const second = r.read(store, { key: 'k' }, 0, new AbortController().signal);
    await tick();
    assert.equal(calls.length, 1, 'joined into one call');
    const t0 = performance.now();
    a.abort();
    await assert.rejects(first, isAbort);
    assert.ok(performance.now() - t0 < 100, 'the aborted waiter returns at once');
    assert.equal(calls[0]!.signal?.aborted, false, 'the shared call is not aborted while another waits');
    calls[0]!.release();
    assert.equal(new TextDecoder().decode((await second).value), 'value-of-k');
  });

  it('the shared call is aborted when its last waiter leaves, and a later read starts a new call', async () => {
    const { store, calls } = slowStore(false);
    const r = new CoalescingReader({ freshBatchWindowMs: 1 });
    const a = new AbortController();
    const b = new AbortController();
    const first = r.read(store, { key: 'k' }, 0, a.signal);
    const second = r.read(store, { key: 'k' }, 0, b.signal);
    await tick();
    a.abort();
    await assert.rejects(first, isAbort);
    assert.equal(calls[0]!.signal?.aborted, false);
    b.abort();
    await assert.rejects(second, isAbort);
    assert.equal(calls[0]!.signal?.aborted, true, 'nobody waits: the provider call is aborted');
    const third = r.read(store, { key: 'k' }, 0);
    await tick();
    assert.equal(calls.length, 2, 'a new call, not the aborted one');
    calls[1]!.release();
    assert.equal(new TextDecoder().decode((await third).value), 'value-of-k');
  });

  it('a batch is aborted only when no item of it is wanted any more', async () => {
    const { store, calls } = slowStore(true);
    const r = new CoalescingReader({ batchWindowMs: 5, freshBatchWindowMs: 5 });
    const a = new AbortController();
    const b = new AbortController();
    const ra = r.read(store, { key: 'a' }, 60_000, a.signal);
    const rb = r.read(store, { key: 'b' }, 60_000, b.signal);
    await tick();
    await tick();
    assert.deepEqual(calls.map((c) => c.keys), [['a', 'b']]);
    a.abort();
    await assert.rejects(ra, isAbort);
    assert.equal(calls[0]!.signal?.aborted, false, 'b still waits for the batch');
    b.abort();
    await assert.rejects(rb, isAbort);
    assert.equal(calls[0]!.signal?.aborted, true);
  });

  it('a read abandoned while its batch collects is not sent', async () => {
    const { store, calls } = slowStore(true);
    const r = new CoalescingReader({ batchWindowMs: 20, freshBatchWindowMs: 20 });
    const a = new AbortController();
    const ra = r.read(store, { key: 'a' }, 60_000, a.signal);
    const rb = r.read(store, { key: 'b' }, 60_000);
    a.abort();
    await assert.rejects(ra, isAbort);
    await new Promise((res) => setTimeout(res, 40));
    assert.deepEqual(calls.map((c) => c.keys), [['b']]);
    calls[0]!.release();
    await rb;
  });

  it('an already aborted signal rejects without a provider call, and a deadline rejects with its TimeoutError', async () => {
    const { store, calls } = slowStore(false);
    const r = new CoalescingReader({ freshBatchWindowMs: 1 });
    await assert.rejects(r.read(store, { key: 'k' }, 0, AbortSignal.abort()), isAbort);
    await assert.rejects(
      r.read(store, { key: 'k' }, 0, AbortSignal.timeout(20)),
      (e: unknown) => (e as Error).name === 'TimeoutError',
    );
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.signal?.aborted, true, 'its only waiter left: the call was aborted');
  });

  it('memo: fn gets the shared signal; one waiter leaving does not abort it, the last does', async () => {
    const { store } = fakeStore();
    const r = new CoalescingReader();
    let seen: AbortSignal | undefined;
    let release!: (v: string) => void;
    const fn = (signal: AbortSignal) => {
      seen = signal;
      return new Promise<string>((resolve, reject) => {
        release = resolve;
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    };
    const a = new AbortController();
    const b = new AbortController();
    const first = r.memo(store, 'find', 60_000, fn, a.signal);
    const second = r.memo(store, 'find', 60_000, fn, b.signal);
    await tick();
    a.abort();
    await assert.rejects(first, isAbort);
    assert.equal(seen?.aborted, false);
    release('listed');
    assert.equal(await second, 'listed');
    // Abandoned by its only caller: aborted.
    const c = new AbortController();
    const third = r.memo(store, 'find-2', 60_000, fn, c.signal);
    await tick();
    c.abort();
    await assert.rejects(third, isAbort);
    assert.equal(seen?.aborted, true);
  });
});
