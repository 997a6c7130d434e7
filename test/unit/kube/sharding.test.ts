// The assignment of shards (stable hashing, balance, few moves on join and leave) and the shard
// Lease state machine, against an in-memory Lease store with resourceVersion conflicts: two
// coordinators split the shards, a key is reconciled only by its shard's holder, a handover
// waits for the reconcile in flight, and a silent replica's shards are taken after expiry.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { ApiError, type KubeClient } from '../../../src/kube/client.ts';
import type { Lease } from '../../../src/kube/types.ts';
import { assignShards, fnv1a32, shardOf } from '../../../src/kube/sharding.ts';
import { memberLeaseName, ShardCoordinator } from '../../../src/kube/shardcoordinator.ts';

const members = (n: number, tag = 'm') => Array.from({ length: n }, (_, i) => `${tag}-${i}_${1000 + i * 7}_x${i}`);
const moved = (a: Array<string | undefined>, b: Array<string | undefined>) => a.filter((o, i) => o !== b[i]).length;

describe('shard assignment', () => {
  it('hashes namespaces with FNV-1a, stable across processes', () => {
    assert.equal(fnv1a32(''), 0x811c9dc5);
    assert.equal(fnv1a32('a'), 0xe40c292c);
    assert.equal(fnv1a32('foobar'), 0xbf9cf968);
    const counts = new Array(8).fill(0) as number[];
    for (let i = 0; i < 8000; i++) counts[shardOf(`team-${i}`, 8)]!++;
    for (const c of counts) assert.ok(c > 800 && c < 1200, `namespaces per shard: ${counts.join(', ')}`);
  });

  it('gives every member between floor and ceil of shards/members, the same on every replica', () => {
    for (const [shards, n] of [[8, 3], [8, 2], [16, 5], [64, 7], [3, 5]] as const) {
      const ms = members(n);
      const owners = assignShards(shards, ms);
      assert.deepEqual(owners, assignShards(shards, [...ms].reverse()), 'order of members does not matter');
      const load = ms.map((m) => owners.filter((o) => o === m).length);
      assert.ok(load.every((l) => l <= Math.ceil(shards / n) && l >= Math.min(1, Math.floor(shards / n))), `${shards}/${n}: ${load.join(', ')}`);
      assert.ok(owners.every((o) => o !== undefined));
    }
    assert.deepEqual(assignShards(4, []), [undefined, undefined, undefined, undefined]);
  });

  it('moves few shards besides the joiner\'s or the leaver\'s', () => {
    for (const [shards, n] of [[8, 3], [64, 4], [256, 7]] as const) {
      for (let t = 0; t < 20; t++) {
        const ms = members(n, `r${t}`);
        const before = assignShards(shards, ms);
        const joiner = `joiner-${t}`;
        const afterJoin = assignShards(shards, [...ms, joiner]);
        const gained = afterJoin.filter((o) => o === joiner).length;
        // Modulo hashing would move about (n/(n+1)) of all shards; here the joiner's share plus a little.
        assert.ok(moved(before, afterJoin) - gained <= Math.ceil(shards / (n + 1)), `join ${shards}/${n}: moved ${moved(before, afterJoin)}, gained ${gained}`);
        const afterLeave = assignShards(shards, ms.slice(1));
        const lost = before.filter((o) => o === ms[0]).length;
        assert.ok(moved(before, afterLeave) - lost <= Math.ceil(shards / n), `leave ${shards}/${n}: moved ${moved(before, afterLeave)}, lost ${lost}`);
      }
    }
  });
});

/** Leases in memory, with resourceVersions and the apiserver's conflict answers. */
class LeaseStore {
  readonly leases = new Map<string, Lease>();
  private rv = 1;
  /** An apiserver that stopped answering writes (the replica is partitioned away). */
  failUpdates = false;
  client(): KubeClient {
    const err = (code: number, reason: string) => new ApiError(code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason, code, message: reason } as never, 'X', '/');
    const copy = <T>(x: T): T => structuredClone(x);
    return {
      tryGet: async (_rt: unknown, _ns: string, name: string) => copy(this.leases.get(name)),
      list: async () => ({ metadata: {}, items: [...this.leases.values()].map(copy) }),
      create: async (_rt: unknown, obj: Lease) => {
        const name = obj.metadata!.name!;
        if (this.leases.has(name)) throw err(409, 'AlreadyExists');
        const stored = { ...copy(obj), metadata: { ...obj.metadata, resourceVersion: String(this.rv++) } };
        this.leases.set(name, stored);
        return copy(stored);
      },
      update: async (_rt: unknown, obj: Lease) => {
        if (this.failUpdates) throw err(503, 'ServiceUnavailable');
        const name = obj.metadata!.name!;
        const cur = this.leases.get(name);
        if (!cur) throw err(404, 'NotFound');
        if (cur.metadata!.resourceVersion !== obj.metadata!.resourceVersion) throw err(409, 'Conflict');
        const stored = { ...copy(obj), metadata: { ...obj.metadata, resourceVersion: String(this.rv++) } };
        this.leases.set(name, stored);
        return copy(stored);
      },
      delete: async (_rt: unknown, _ns: string, name: string) => {
        if (!this.leases.delete(name)) throw err(404, 'NotFound');
      },
    } as unknown as KubeClient;
  }
  holder(shard: number): string {
    return this.leases.get(`t-shard-${shard}`)?.spec?.holderIdentity ?? '';
  }
}

const logger = pino({ level: 'silent' });
const coordinator = (store: LeaseStore, identity: string, shards = 4) =>
  new ShardCoordinator({ client: store.client(), logger, namespace: 'ops', prefix: 't', identity, shards, leaseDurationMs: 1000, renewDeadlineMs: 700, retryPeriodMs: 200, shutdownGraceMs: 2000 });
const nsOfShard = (shard: number, shards = 4) => {
  for (let i = 0; ; i++) if (shardOf(`ns-${i}`, shards) === shard) return `ns-${i}`;
};
/** A cache stand-in: sharded informers re-list; here nothing to fill. */
const cache = { relist: async () => undefined, waitForSync: async () => true };
const settle = () => new Promise((r) => setTimeout(r, 20));

describe('shard coordinator', () => {
  it('two replicas split the shards by their Leases and reconcile only their own keys', async () => {
    const store = new LeaseStore();
    const a = coordinator(store, 'a_1_x');
    const b = coordinator(store, 'b_2_y');
    a.addCache(cache);
    b.addCache(cache);
    await a.tick(); // alone: takes all four
    await settle();
    assert.deepEqual(a.states, ['held', 'held', 'held', 'held']);
    await b.tick(); // sees both members; nothing free yet
    await a.tick(); // drains and releases the shards b should have (none in flight)
    await b.tick(); // takes them
    await settle();
    await a.tick();
    const want = assignShards(4, ['a_1_x', 'b_2_y']);
    for (let i = 0; i < 4; i++) assert.equal(store.holder(i), want[i], `shard ${i}`);
    assert.ok(store.leases.has(memberLeaseName('t', 'a_1_x')) && store.leases.has(memberLeaseName('t', 'b_2_y')));
    const shardOfA = want.indexOf('a_1_x');
    let ran = 0;
    const work = async () => {
      ran++;
      return {};
    };
    assert.deepEqual(await a.reconcile(`${nsOfShard(shardOfA)}/x`, AbortSignal.timeout(1000), work), {});
    assert.deepEqual(await b.reconcile(`${nsOfShard(shardOfA)}/x`, AbortSignal.timeout(1000), work), {}, 'not b\'s: dropped');
    assert.equal(ran, 1);
    assert.equal(a.caches(nsOfShard(shardOfA)), true);
    assert.equal(b.caches(nsOfShard(shardOfA)), false);
  });

  it('a handover waits for the reconcile in flight before the Lease is released', async () => {
    const store = new LeaseStore();
    const a = coordinator(store, 'a_1_x');
    a.addCache(cache);
    await a.tick();
    await settle();
    const b = coordinator(store, 'b_2_y');
    b.addCache(cache);
    await b.tick();
    const moving = assignShards(4, ['a_1_x', 'b_2_y']).indexOf('b_2_y');
    let finish!: () => void;
    const inFlight = a.reconcile(`${nsOfShard(moving)}/slow`, AbortSignal.timeout(5000), () => new Promise((r) => (finish = () => r({}))));
    await a.tick();
    assert.equal(a.states[moving], 'draining');
    assert.equal(store.holder(moving), 'a_1_x', 'still held while a reconcile runs');
    assert.deepEqual(await a.reconcile(`${nsOfShard(moving)}/other`, AbortSignal.timeout(1000), async () => assert.fail('no new reconcile while draining')), { requeueAfter: 500 });
    await b.tick();
    assert.equal(b.states[moving], 'idle', 'b cannot take it yet');
    finish();
    await inFlight;
    await a.tick();
    assert.equal(a.states[moving], 'idle');
    assert.equal(store.holder(moving), '', 'released');
    await b.tick();
    assert.equal(store.holder(moving), 'b_2_y');
  });

  it('takes the shards of a replica that stopped renewing once its Leases expire, not before', async () => {
    const store = new LeaseStore();
    const dead = coordinator(store, 'dead_1_x');
    dead.addCache(cache);
    await dead.tick();
    const live = coordinator(store, 'live_2_y');
    live.addCache(cache);
    const t0 = performance.now(); // before live first sees the Leases: their expiry counts from then
    await live.tick();
    assert.deepEqual(live.states, ['idle', 'idle', 'idle', 'idle']);
    while (live.states.some((s) => s === 'idle') && performance.now() - t0 < 5000) {
      await new Promise((r) => setTimeout(r, 200));
      await live.tick();
    }
    const took = performance.now() - t0;
    assert.ok(took >= 1000, `not before the lease duration: ${took} ms`);
    assert.ok(took < 2000, `within the lease duration and a round or two: ${took} ms`);
    for (let i = 0; i < 4; i++) assert.equal(store.holder(i), 'live_2_y');
  });

  it('aborts the reconciles of a shard it cannot renew within the renew deadline, before the Lease expires', async () => {
    const store = new LeaseStore();
    const a = coordinator(store, 'a_1_x');
    a.addCache(cache);
    a.start();
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(a.states.every((s) => s === 'held'));
    store.failUpdates = true;
    const t0 = performance.now();
    let abortedAfter = -1;
    const result = await a.reconcile(`${nsOfShard(0)}/long`, AbortSignal.timeout(5000), (signal) => new Promise((resolve) => {
      signal.addEventListener('abort', () => {
        abortedAfter = performance.now() - t0;
        resolve({});
      });
    }));
    assert.deepEqual(result, {});
    // Renewed last at most one round (200 ms) before t0; the deadline is 700 ms, the Lease 1 s.
    assert.ok(abortedAfter > 400 && abortedAfter < 1000, `aborted after ${abortedAfter} ms`);
    assert.deepEqual(a.states, ['idle', 'idle', 'idle', 'idle']);
    store.failUpdates = false;
    await a.stop();
  });

  it('stops by releasing its shards and removing its membership Lease', async () => {
    const store = new LeaseStore();
    const a = coordinator(store, 'a_1_x');
    a.addCache(cache);
    a.start();
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(a.states.every((s) => s !== 'idle'));
    await a.stop();
    for (let i = 0; i < 4; i++) assert.equal(store.holder(i), '');
    assert.equal(store.leases.has(memberLeaseName('t', 'a_1_x')), false);
  });
});
