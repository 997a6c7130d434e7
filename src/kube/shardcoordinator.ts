// Horizontal scale-out (`--shards N`, docs/adr/0008-sharding.md): each replica holds some of N
// virtual shards and reconciles only the namespaces of those shards.
//
// - Membership: each replica renews a Lease of its own (`<id>-member-<identity>`); a member is
//   live while that Lease is renewed, judged as leader election judges expiry (by our clock, from
//   when we saw the Lease change), so clock skew cannot make a live member look dead.
// - Assignment: every replica computes the same desired owner per shard from the live members
//   (sharding.ts). It is only a wish.
// - Mutual exclusion: a shard is reconciled only by the holder of its Lease (`<id>-shard-<i>`),
//   taken through LeaderElector.tryAcquireOrRenew: only when free, released or expired. A replica
//   gives a shard up in order: stop admitting its keys, wait for the reconciles in flight, then
//   release the Lease. A replica that cannot renew for --renew-deadline stops (aborts) its
//   reconciles of that shard before the Lease can expire for the others. So no key is reconciled
//   by two replicas at once, also during a handover.
// - Caches: on every change of the held shards the sharded informers re-list through their
//   filter, so objects outside the held shards are not kept. Keys of a shard just taken wait
//   (requeued) until that re-list is in the caches, so a reconcile never sees a half-filled cache.
import type { Logger } from 'pino';
import type { KubeClient } from './client.ts';
import { isConflict, isNotFound, sleep } from './client.ts';
import type { Result } from './controller.ts';
import { LeaderElector, leaseExpired, observeLease, type LeaseObservation } from './leaderelection.ts';
import { shardMetrics } from './metrics.ts';
import { settledWithin, withDeadline } from '../deadline.ts';
import { assignShards, shardOf } from './sharding.ts';
import { core, type Lease } from './types.ts';

/** A cache that keeps only the held shards' objects (an Informer with a filter). */
export interface ShardedCache {
  relist(): Promise<void>;
  waitForSync(signal?: AbortSignal): Promise<boolean>;
}

/** What the controllers see of sharding. */
export interface ShardGate {
  /** Should objects of this namespace be cached here? (Cluster-scoped objects: always.) */
  caches(namespace: string | undefined): boolean;
  /** A cache to re-list whenever the held shards change. */
  addCache(cache: ShardedCache): void;
  /** Runs a reconcile of `key` ("namespace/name") if its shard is held here, else says what to do with the key. */
  reconcile(key: string, signal: AbortSignal, fn: (signal: AbortSignal) => Promise<Result>): Promise<Result>;
}

/**
 * idle: not ours. syncing: Lease taken, caches re-listing (keys wait). held: reconciling.
 * draining: to be given up, no new reconciles, waiting for those in flight, Lease still renewed.
 */
export type ShardState = 'idle' | 'syncing' | 'held' | 'draining';

interface Shard {
  readonly index: number;
  readonly elector: LeaderElector;
  state: ShardState;
  lastRenew: number;
  inFlight: number;
  /** Aborted when the Lease is lost, or at shutdown past the grace: the shard's reconciles stop. */
  abort: AbortController;
  /** Who the last list showed as holder, and whether its Lease had expired by our clock. */
  listedHolder: string;
  /** The renewal in flight: the rounds and the shutdown timer join it, never two at once. */
  renewal?: Promise<boolean> | undefined;
}

export interface ShardCoordinatorOptions {
  client: KubeClient;
  logger: Logger;
  /** Namespace of the Leases (the leader Lease's). */
  namespace: string;
  /** Prefix of the Lease names: the leader Lease's name (--leader-election-id). */
  prefix: string;
  identity: string;
  shards: number;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  /** At shutdown, how long to wait for reconciles in flight before aborting them. */
  shutdownGraceMs?: number;
}

/** How soon a key whose shard is being taken or given up is looked at again. */
export const SHARD_WAIT_REQUEUE_MS = 500;
/** After aborting the reconciles still in flight at shutdown, how long to wait for them to return. */
const ABORT_GRACE_MS = 5_000;

/** A Lease name from a replica identity ("host_123_ab1c"): lowercase DNS-1123 characters only. */
export function memberLeaseName(prefix: string, identity: string): string {
  return `${prefix}-member-${identity.toLowerCase().replace(/[^a-z0-9.-]+/g, '-')}`.slice(0, 253).replace(/[^a-z0-9]+$/, '');
}

export class ShardCoordinator implements ShardGate {
  readonly name = 'shard-coordinator';
  readonly leaderOnly = false;
  private readonly o: Required<ShardCoordinatorOptions>;
  private readonly log: Logger;
  private readonly shards: Shard[];
  private readonly member: LeaderElector;
  private readonly memberPrefix: string;
  private readonly shardPrefix: string;
  private readonly members = new Map<string, LeaseObservation>();
  private readonly caches_: ShardedCache[] = [];
  private readonly stopSignal = new AbortController();
  /** stop() has begun: no reconcile is admitted any more. */
  private stopping = false;
  private loop: Promise<void> | undefined;
  private resyncing: Promise<void> = Promise.resolve();
  private readonly drainWaiters = new Set<() => void>();
  private lastLive = new Set<string>();

  constructor(o: ShardCoordinatorOptions) {
    if (!Number.isInteger(o.shards) || o.shards < 1) throw new Error('the shard count must be a positive integer');
    this.o = { shutdownGraceMs: 30_000, ...o };
    this.log = o.logger.child({ component: 'sharding', identity: o.identity });
    this.memberPrefix = `${o.prefix}-member-`;
    this.shardPrefix = `${o.prefix}-shard-`;
    const electorOptions = (name: string) => ({
      namespace: o.namespace,
      name,
      identity: o.identity,
      leaseDurationMs: o.leaseDurationMs,
      renewDeadlineMs: o.renewDeadlineMs,
      retryPeriodMs: o.retryPeriodMs,
      // Driven by our loop (tryAcquireOrRenew, release), never started: no callbacks.
      onStartedLeading: () => undefined,
      onStoppedLeading: () => undefined,
    });
    this.member = new LeaderElector(o.client, electorOptions(memberLeaseName(o.prefix, o.identity)));
    this.shards = Array.from({ length: o.shards }, (_, index) => ({
      index,
      elector: new LeaderElector(o.client, electorOptions(`${this.shardPrefix}${index}`)),
      state: 'idle' as ShardState,
      lastRenew: 0,
      inFlight: 0,
      abort: new AbortController(),
      listedHolder: '',
    }));
    shardMetrics.held.set(0);
    for (const direction of ['acquired', 'released', 'lost']) shardMetrics.handovers.inc({ direction }, 0);
  }

  /** The state of every shard (index = shard), for tests and logs. */
  get states(): ShardState[] {
    return this.shards.map((s) => s.state);
  }

  caches(namespace: string | undefined): boolean {
    if (namespace === undefined) return true;
    return this.shards[shardOf(namespace, this.o.shards)]!.state !== 'idle';
  }

  addCache(cache: ShardedCache): void {
    this.caches_.push(cache);
  }

  async reconcile(key: string, signal: AbortSignal, fn: (signal: AbortSignal) => Promise<Result>): Promise<Result> {
    const shard = this.shards[shardOf(key.split('/')[0]!, this.o.shards)]!;
    // Being taken (caches filling) or given up (another replica may hold it soon): look again
    // shortly; once given up, the re-list drops the object and with it the key's delayed retry.
    if (shard.state === 'syncing' || shard.state === 'draining' || this.stopping) return { requeueAfter: SHARD_WAIT_REQUEUE_MS };
    if (shard.state !== 'held') return {}; // another replica's: its holder reconciles it
    shard.inFlight++;
    const startedAt = Date.now();
    try {
      return await fn(AbortSignal.any([signal, shard.abort.signal]));
    } finally {
      shard.inFlight--;
      // One line per reconcile with its interval: tests check that no two replicas overlap on a key.
      this.log.debug({ key, shard: shard.index, startedAt, endedAt: Date.now() }, 'sharded reconcile');
      if (shard.inFlight === 0) for (const w of this.drainWaiters) w();
    }
  }

  start(): void {
    this.loop ??= this.run(this.stopSignal.signal);
  }

  private async run(signal: AbortSignal): Promise<void> {
    // Shards are taken only once the (still empty) caches are synced, so that a re-list follows.
    await Promise.all(this.caches_.map((c) => c.waitForSync(signal)));
    this.log.info({ shards: this.o.shards, namespace: this.o.namespace }, 'sharding started');
    // Independent of the rounds (whose requests may hang): a shard not renewed within the renew
    // deadline stops its reconciles before the Lease can expire for the others.
    const watchdog = setInterval(() => this.loseOverdue(), Math.max(100, this.o.retryPeriodMs / 2));
    signal.addEventListener('abort', () => clearInterval(watchdog), { once: true });
    while (!signal.aborted) {
      const t0 = performance.now();
      try {
        await this.tick();
      } catch (e) {
        this.log.warn({ err: (e as Error).message }, 'shard lease round failed');
      }
      // A round every retry period, however long its requests took (the takeover of a dead
      // replica's shards waits for up to two rounds after the expiry); jittered, so that replicas
      // do not move in lock-step.
      await sleep(Math.max(0, this.o.retryPeriodMs * (1 + Math.random() * 0.2) - (performance.now() - t0)), signal);
    }
  }

  /**
   * One round: renew membership and the held shards first (a slow or failing list must not cost
   * a renewal), then read every Lease, then take, keep or give up each shard.
   */
  async tick(): Promise<void> {
    const held = this.shards.filter((s) => !isIdle(s));
    const [memberOk, ...renewed] = await Promise.all([
      this.renewMembership(),
      ...held.map((s) => this.renew(s)),
    ]);
    const before = this.shards.map((s) => s.state);
    for (const [i, s] of held.entries()) if (!renewed[i] && !isIdle(s) && performance.now() - s.lastRenew > this.o.renewDeadlineMs) this.lose(s);
    let live: Set<string>;
    try {
      live = await this.liveMembers(memberOk);
      this.lastLive = live;
    } catch (e) {
      // Decide on the last view: the Leases keep any decision safe.
      this.log.warn({ err: (e as Error).message }, 'cannot list the shard leases; using the last view');
      live = this.lastLive;
    }
    const desired = assignShards(this.o.shards, [...live]);
    await Promise.all(this.shards.map((s) => this.step(s, desired[s.index] === this.o.identity, held.includes(s) && renewed[held.indexOf(s)] === true)));
    if (this.shards.some((s, i) => (s.state === 'idle') !== (before[i] === 'idle'))) this.resync();
    shardMetrics.held.set(this.shards.filter((s) => s.state !== 'idle').length);
  }

  /** The membership Lease's renewal, bounded by the renew deadline like a shard's. */
  private renewMembership(): Promise<boolean> {
    return withDeadline(undefined, this.o.renewDeadlineMs, (signal) => this.member.tryAcquireOrRenew(signal)).catch((e: Error) => {
      this.log.warn({ err: e.message }, 'membership lease renewal failed');
      return false;
    });
  }

  /** Reads the Leases: records what the shard Leases show and returns the live members. */
  private async liveMembers(memberOk: boolean): Promise<Set<string>> {
    const list = await this.o.client.list<Lease>(core.leases, this.o.namespace, { signal: this.stopSignal.signal });
    const now = performance.now();
    const live = new Set<string>();
    if (memberOk) live.add(this.o.identity);
    const seen = new Set<string>();
    for (const lease of list.items ?? []) {
      const name = lease.metadata?.name ?? '';
      if (name.startsWith(this.shardPrefix)) {
        const shard = this.shards[Number(name.slice(this.shardPrefix.length))];
        if (!shard) continue;
        // Feeds the elector's own expiry clock, so that it may take an expired Lease at once.
        shard.elector.observe(lease);
        shard.listedHolder = lease.spec?.holderIdentity ?? '';
      } else if (name.startsWith(this.memberPrefix)) {
        seen.add(name);
        const obs = observeLease(this.members.get(name), lease, now);
        this.members.set(name, obs);
        if (!obs.holder) continue;
        if (!leaseExpired(obs, now) && !staleByWallClock(lease, obs.durationMs)) live.add(obs.holder);
        else if (leaseExpired(obs, now - obs.durationMs) || staleByWallClock(lease, obs.durationMs)) void this.collect(lease);
      }
    }
    for (const name of this.members.keys()) if (!seen.has(name)) this.members.delete(name);
    return live;
  }

  /** Deletes the membership Lease of a replica gone for two lease durations (killed, not stopped). */
  private async collect(lease: Lease): Promise<void> {
    try {
      await this.o.client.delete(core.leases, this.o.namespace, lease.metadata!.name!, { preconditions: { resourceVersion: lease.metadata!.resourceVersion! } });
      this.log.info({ lease: lease.metadata!.name, holder: lease.spec?.holderIdentity }, 'removed the membership lease of a replica gone');
    } catch (e) {
      if (!isNotFound(e) && !isConflict(e)) this.log.debug({ err: (e as Error).message }, 'membership lease cleanup failed');
    }
  }

  private async step(s: Shard, wanted: boolean, renewed: boolean): Promise<void> {
    if (s.state === 'idle') {
      if (!wanted) return;
      // Held by someone else and not expired: the elector would refuse it; spare the request.
      if (s.listedHolder && s.listedHolder !== this.o.identity && !s.elector.expired) return;
      if (await this.renew(s)) {
        s.state = 'syncing';
        shardMetrics.handovers.inc({ direction: 'acquired' });
        this.log.info({ shard: s.index }, 'shard acquired');
      }
      return;
    }
    // Not renewed this round (or taken this round): decide next round.
    if (!renewed || isIdle(s)) return;
    if (s.state === 'draining' && wanted) {
      s.state = 'held';
      this.log.info({ shard: s.index }, 'shard kept: wanted again before it was released');
    } else if (s.state !== 'draining' && !wanted) {
      s.state = 'draining';
      this.log.info({ shard: s.index, inFlight: s.inFlight }, 'shard draining before handover');
    }
    if (s.state === 'draining' && s.inFlight === 0) await this.release(s);
  }

  /**
   * One renewal (or acquisition) of a shard's Lease, bounded by its renew deadline, so that a
   * request held up cannot outlast the Lease. Its start counts as the renewal's time: the Lease
   * records it as renewTime, and the others count its expiry from no earlier than that.
   */
  private renew(s: Shard): Promise<boolean> {
    s.renewal ??= this.renewOnce(s).finally(() => {
      s.renewal = undefined;
    });
    return s.renewal;
  }

  private async renewOnce(s: Shard): Promise<boolean> {
    const started = performance.now();
    const budget = isIdle(s) ? this.o.renewDeadlineMs : s.lastRenew + this.o.renewDeadlineMs - started;
    if (budget <= 0) return false;
    const ok = await withDeadline(undefined, budget, (signal) => s.elector.tryAcquireOrRenew(signal)).catch((e: Error) => {
      this.log.warn({ shard: s.index, err: e.message }, 'shard lease update failed');
      return false;
    });
    if (ok) s.lastRenew = started;
    return ok;
  }

  private loseOverdue(): void {
    const now = performance.now();
    let lost = false;
    for (const s of this.shards) {
      if (s.state !== 'idle' && now - s.lastRenew > this.o.renewDeadlineMs) {
        this.lose(s);
        lost = true;
      }
    }
    if (lost) {
      shardMetrics.held.set(this.shards.filter((s) => s.state !== 'idle').length);
      this.resync();
    }
  }

  /** Renewals failed past the renew deadline: stop the shard's reconciles before others may take it. */
  private lose(s: Shard): void {
    s.abort.abort(new DOMException(`shard ${s.index} lease lost`, 'AbortError'));
    s.abort = new AbortController();
    s.state = 'idle';
    shardMetrics.handovers.inc({ direction: 'lost' });
    this.log.error({ shard: s.index, inFlight: s.inFlight }, 'shard lease lost; its reconciles were aborted');
  }

  private async release(s: Shard): Promise<void> {
    try {
      await withDeadline(undefined, this.o.renewDeadlineMs, (signal) => s.elector.release(signal));
    } catch (e) {
      this.log.warn({ shard: s.index, err: (e as Error).message }, 'shard lease release failed; retrying');
      return;
    }
    s.state = 'idle';
    shardMetrics.handovers.inc({ direction: 'released' });
    this.log.info({ shard: s.index }, 'shard released');
  }

  /** Re-lists the caches through their filter; shards taken before it started then admit keys. */
  private resync(): void {
    const prev = this.resyncing;
    this.resyncing = (async () => {
      await prev;
      const syncing = this.shards.filter((s) => s.state === 'syncing');
      const t0 = performance.now();
      await Promise.all(this.caches_.map((c) => c.relist()));
      for (const s of syncing) if (s.state === 'syncing') s.state = 'held';
      this.log.info({ held: this.heldIndexes(), ms: Math.round(performance.now() - t0) }, 'caches re-listed for the held shards');
    })().catch((e: Error) => this.log.warn({ err: e.message }, 'cache re-list failed'));
  }

  private heldIndexes(): number[] {
    return this.shards.filter((s) => s.state !== 'idle').map((s) => s.index);
  }

  /**
   * Gives every shard up as a handover does (no new reconciles, wait for those in flight, then
   * release), then the membership Lease, so that the others take over at once.
   */
  async stop(): Promise<void> {
    // From here on no reconcile is admitted, and until the end the Leases of shards with
    // reconciles in flight are renewed (a shard that cannot be renewed in time is lost, which
    // aborts them, as the watchdog does while running): the rounds and their watchdog stop now.
    this.stopping = true;
    const keepAlive = setInterval(() => this.renewDraining(), Math.max(100, this.o.retryPeriodMs / 2));
    let mine: Shard[] = [];
    let drained = true;
    try {
      this.stopSignal.abort();
      await this.loop;
      // A re-list in progress is waited for at most a renew deadline: a slow apiserver must not hold shutdown.
      await settledWithin(this.resyncing, this.o.renewDeadlineMs);
      mine = this.shards.filter((s) => s.state !== 'idle');
      for (const s of mine) s.state = 'draining';
      drained = await this.waitDrained(mine, this.o.shutdownGraceMs);
      if (!drained) {
        for (const s of mine) s.abort.abort(new DOMException('shutting down', 'AbortError'));
        drained = await this.waitDrained(mine, ABORT_GRACE_MS);
      }
    } finally {
      clearInterval(keepAlive);
    }
    // A renewal still in flight would race the release (and could take the Lease back).
    await Promise.all(mine.map((s) => s.renewal));
    // Reconciles that ignore their signal keep their shards' Leases: those expire instead.
    await Promise.all(mine.filter((s) => s.inFlight === 0).map((s) => this.release(s)));
    if (!drained) this.log.error({ shards: mine.filter((s) => s.inFlight > 0).map((s) => s.index) }, 'reconciles did not return; leaving their shard leases to expire');
    try {
      await this.o.client.delete(core.leases, this.o.namespace, memberLeaseName(this.o.prefix, this.o.identity));
    } catch (e) {
      if (!isNotFound(e)) this.log.warn({ err: (e as Error).message }, 'membership lease removal failed');
    }
    shardMetrics.held.set(this.shards.filter((s) => s.state !== 'idle').length);
  }

  /** While stopping: renews the Leases of shards with reconciles in flight; loses those overdue. */
  private renewDraining(): void {
    const now = performance.now();
    for (const s of this.shards) {
      if (isIdle(s) || s.inFlight === 0) continue;
      if (now - s.lastRenew > this.o.renewDeadlineMs) this.lose(s);
      else if (now - s.lastRenew >= this.o.retryPeriodMs) void this.renew(s);
    }
  }

  private waitDrained(shards: Shard[], ms: number): Promise<boolean> {
    const done = () => shards.every((s) => s.inFlight === 0);
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (!done()) return;
        finish(true);
      };
      const timer = setTimeout(() => finish(false), ms);
      const finish = (v: boolean) => {
        clearTimeout(timer);
        this.drainWaiters.delete(check);
        resolve(v);
      };
      this.drainWaiters.add(check);
    });
  }
}

/**
 * A membership Lease whose renewTime is more than two durations behind our wall clock: a replica
 * gone long ago, seen for the first time (our own expiry clock would wait a full duration first).
 * Used only for liveness, never for exclusion, so clock skew can only delay or hasten a rebalance.
 */
function staleByWallClock(lease: Lease, durationMs: number): boolean {
  const renewed = Date.parse(lease.spec?.renewTime ?? '');
  return Number.isFinite(renewed) && renewed + 2 * durationMs < Date.now();
}

/** The state read afresh (after an await, the watchdog may have changed it). */
function isIdle(s: Shard): boolean {
  return s.state === 'idle';
}
