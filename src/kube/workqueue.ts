// A keyed work queue with client-go semantics, plus priorities.
//
// - A key waiting in the queue is held once, however often it is added.
// - A key is never handed to two workers at once: adding a key that is being processed marks it
//   dirty, and done() puts it back so it is processed again, after.
// - Keys are added at one of two priorities. New and changed objects ('high') go ahead of
//   periodic refreshes and retries ('low'); adding a waiting key at a higher priority promotes it.
// - addAfter() delays a key (the earliest pending time wins); addRateLimited() delays it by the
//   larger of a per-key exponential backoff and a global token bucket, as client-go's default
//   controller rate limiter does; forget() resets the key's backoff.
// - Bulkheads: keys may belong to groups (e.g. the store an ExternalSecret reads from, its
//   namespace), each with a cap on keys in progress. A key whose group is at its cap is parked,
//   not handed out, so a slow or hostile group holds at most its cap of workers and never a worker
//   that merely waits; the key is handed out when a key of its group is done. Parking is not a
//   failure: it does not grow the key's backoff.
import { timerDelayMs } from '../api/duration.ts';
import { DelayedKeys } from './delayed.ts';
import { ExponentialBackoff } from './ratelimit.ts';
import { TokenBucket } from '../token-bucket.ts';
import { queueMetrics, scrapedQueues } from './metrics.ts';

export type Priority = 'high' | 'low';

export interface WorkQueueOptions {
  name: string;
  /** Per-key backoff after an error: base and cap in ms. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Global rate limit on rate-limited re-adds: tokens per second and burst. */
  retryQps?: number;
  retryBurst?: number;
  now?: () => number;
  /**
   * The bulkhead groups of a key, looked up when the key is about to be handed out (so a key that
   * moves to another group is counted in its new one). No groups: no cap.
   */
  groupsOf?: (key: string) => readonly string[];
  /** Most keys of a group in progress at once (≥ 1); Infinity or absent: no cap. */
  groupLimit?: (group: string) => number;
}

/** A FIFO of strings with O(1) push/shift and lazy removal. */
class Fifo {
  private items: Array<string | undefined> = [];
  private head = 0;
  private live = 0;
  private readonly index = new Map<string, number>();

  get length(): number {
    return this.live;
  }

  push(key: string): void {
    this.index.set(key, this.items.length);
    this.items.push(key);
    this.live++;
  }

  shift(): string | undefined {
    while (this.head < this.items.length) {
      const k = this.items[this.head++];
      if (k !== undefined) {
        this.index.delete(k);
        this.live--;
        this.compact();
        return k;
      }
    }
    return undefined;
  }

  remove(key: string): boolean {
    const i = this.index.get(key);
    if (i === undefined) return false;
    this.items[i] = undefined;
    this.index.delete(key);
    this.live--;
    return true;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
      this.index.clear();
      this.items.forEach((k, i) => k !== undefined && this.index.set(k, i));
    }
  }
}

/** This process's queues, from construction until shutDown. */
const liveQueues = new Set<WorkQueue>();

/**
 * Keys waiting for a worker in all of this process's queues: the reconcile work that Event writes
 * yield to. Keys parked behind a full bulkhead group wait for their group, not for the apiserver:
 * they do not count, so a tenant whose store is slow does not hold back everybody's Events.
 */
export function queuedKeys(): number {
  let n = 0;
  for (const q of liveQueues) n += q.len() - q.parkedLen();
  return n;
}

export class WorkQueue {
  readonly name: string;
  /** controller-runtime's labels of a controller's queue: `name` and `controller`, both its name. */
  private readonly labels: { name: string; controller: string };
  private readonly queues: Record<Priority, Fifo> = { high: new Fifo(), low: new Fifo() };
  /** Keys that need processing, with their priority (waiting, or to re-run after processing). */
  private readonly dirty = new Map<string, Priority>();
  private readonly processing = new Map<string, number>();
  /** Groups each in-progress key was counted in, and keys in progress per group. */
  private readonly processingGroups = new Map<string, readonly string[]>();
  private readonly inFlight = new Map<string, number>();
  /** Keys waiting for room in a full group, oldest first, by the group that held them back. */
  private readonly parked = new Map<string, string[]>();
  private parkedCount = 0;
  private readonly groupsOf: ((key: string) => readonly string[]) | undefined;
  private readonly groupLimit: (group: string) => number;
  /** Keys added with a delay (addAfter), under one timer. */
  private readonly waiting: DelayedKeys<Priority>;
  private readonly addedAt = new Map<string, number>();
  private readonly backoff: ExponentialBackoff;
  private readonly bucket: TokenBucket;
  private readonly getters: Array<(key: string | undefined) => void> = [];
  private readonly drainWaiters: Array<() => void> = [];
  private readonly now: () => number;
  private shuttingDown = false;

  constructor(opts: WorkQueueOptions) {
    this.name = opts.name;
    this.labels = { name: opts.name, controller: opts.name };
    this.now = opts.now ?? (() => performance.now());
    this.backoff = new ExponentialBackoff(opts.backoffBaseMs ?? 5, opts.backoffMaxMs ?? 5 * 60_000);
    this.bucket = new TokenBucket(opts.retryQps ?? 10, opts.retryBurst ?? 100, this.now);
    this.groupsOf = opts.groupsOf;
    this.groupLimit = opts.groupLimit ?? (() => Infinity);
    this.waiting = new DelayedKeys<Priority>(this.now, (key, priority) => this.add(key, priority));
    scrapedQueues.add(this);
    liveQueues.add(this);
  }

  /** Keys waiting to be handed to a worker (not counting delayed or in-progress keys). */
  len(): number {
    return this.queues.high.length + this.queues.low.length + this.parkedCount;
  }

  /** Keys held back because their group is at its cap. */
  parkedLen(): number {
    return this.parkedCount;
  }

  /** Keys of the group in progress now. */
  inFlightOf(group: string): number {
    return this.inFlight.get(group) ?? 0;
  }

  /** The first group of the key that is at its cap, or undefined when the key may run now. */
  private fullGroup(key: string): { full: string | undefined; groups: readonly string[] } {
    const groups = this.groupsOf?.(key) ?? [];
    for (const g of groups) {
      const limit = Math.max(1, this.groupLimit(g));
      if ((this.inFlight.get(g) ?? 0) >= limit) return { full: g, groups };
    }
    return { full: undefined, groups };
  }

  private park(key: string, group: string): void {
    const list = this.parked.get(group);
    if (list) list.push(key);
    else this.parked.set(group, [key]);
    this.parkedCount++;
  }

  /** Takes the next key that may run now from the priority queues, parking those that may not. */
  private takeRunnable(): { key: string; groups: readonly string[] } | undefined {
    for (;;) {
      const key = this.queues.high.shift() ?? this.queues.low.shift();
      if (key === undefined) return undefined;
      const { full, groups } = this.fullGroup(key);
      if (full === undefined) return { key, groups };
      this.park(key, full);
    }
  }

  /** Keys scheduled with addAfter/addRateLimited and not yet due. */
  delayedLen(): number {
    return this.waiting.size;
  }

  add(key: string, priority: Priority = 'high'): void {
    if (this.shuttingDown) return;
    const was = this.dirty.get(key);
    if (was !== undefined) {
      if (was === 'low' && priority === 'high') {
        this.dirty.set(key, 'high');
        // Promote only if it is waiting in the queue; a key in progress is re-queued by done().
        if (this.queues.low.remove(key)) this.queues.high.push(key);
      }
      return;
    }
    queueMetrics.adds.inc(this.labels);
    this.dirty.set(key, priority);
    if (!this.addedAt.has(key)) this.addedAt.set(key, this.now());
    if (this.processing.has(key)) return;
    this.enqueue(key, priority);
  }

  private enqueue(key: string, priority: Priority): void {
    if (this.getters.length > 0) {
      const { full, groups } = this.fullGroup(key);
      if (full !== undefined) {
        this.park(key, full);
        return;
      }
      const getter = this.getters.shift()!;
      this.dirty.delete(key);
      this.startProcessing(key, groups);
      getter(key);
      return;
    }
    this.queues[priority].push(key);
  }

  /**
   * Adds the key after `delayMs`. A key already waiting keeps the earlier of the two times.
   * Delays beyond Node's timer limit (≈ 24.8 days) are clamped to it: the reconciler looks again
   * then and schedules the rest, instead of Node firing an overflowing timer at once.
   */
  addAfter(key: string, delayMs: number, priority: Priority = 'low'): void {
    if (this.shuttingDown) return;
    delayMs = timerDelayMs(delayMs);
    if (delayMs <= 0) {
      this.add(key, priority);
      return;
    }
    const at = this.now() + delayMs;
    const pending = this.waiting.dueAt(key);
    if (pending !== undefined && pending <= at) return;
    this.waiting.set(key, at, priority);
  }

  /**
   * Re-adds a failed key after its backoff (and the global retry rate limit), not before
   * `minDelayMs` (a failure that asks for a slower retry) and not after `maxDelayMs` (an object
   * that asks to be looked at that often).
   */
  addRateLimited(key: string, priority: Priority = 'low', minDelayMs = 0, maxDelayMs = Infinity): number {
    const delay = Math.min(Math.max(this.backoff.when(key), this.bucket.reserve(), minDelayMs), Math.max(minDelayMs, maxDelayMs));
    queueMetrics.retries.inc(this.labels);
    this.addAfter(key, delay, priority);
    return delay;
  }

  /** Clears the key's backoff after a success. */
  forget(key: string): void {
    this.backoff.forget(key);
  }

  numRequeues(key: string): number {
    return this.backoff.retries(key);
  }

  /** Cancels a delayed add (e.g. the object was deleted). */
  cancelDelayed(key: string): void {
    this.waiting.delete(key);
  }

  /** Waits for the next key; undefined once the queue is shut down. */
  get(): Promise<string | undefined> {
    const next = this.takeRunnable();
    if (next !== undefined) {
      this.dirty.delete(next.key);
      this.startProcessing(next.key, next.groups);
      return Promise.resolve(next.key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  private startProcessing(key: string, groups: readonly string[]): void {
    const t = this.now();
    this.processing.set(key, t);
    if (groups.length > 0) {
      this.processingGroups.set(key, groups);
      for (const g of groups) this.inFlight.set(g, (this.inFlight.get(g) ?? 0) + 1);
    }
    const added = this.addedAt.get(key);
    if (added !== undefined) {
      queueMetrics.queueDuration.observe(this.labels, (t - added) / 1000);
      this.addedAt.delete(key);
    }
  }

  /** Marks the key processed; if it was added meanwhile, it goes back in the queue. */
  done(key: string): void {
    const started = this.processing.get(key);
    if (started !== undefined) queueMetrics.workDuration.observe(this.labels, (this.now() - started) / 1000);
    this.processing.delete(key);
    const groups = this.processingGroups.get(key);
    this.processingGroups.delete(key);
    // Keys parked behind this one go first: they have waited longer than its own re-run.
    if (groups) this.releaseGroups(groups);
    const prio = this.dirty.get(key);
    if (prio !== undefined && !this.shuttingDown) this.enqueue(key, prio);
    if (this.processing.size === 0) this.drainWaiters.splice(0).forEach((f) => f());
  }

  /**
   * A key of these groups is done: parked keys of the groups go to waiting workers while there is
   * room, the rest back to the end of the queue (so other groups' keys waiting there go first).
   */
  private releaseGroups(groups: readonly string[]): void {
    for (const g of groups) {
      const n = (this.inFlight.get(g) ?? 1) - 1;
      if (n <= 0) this.inFlight.delete(g);
      else this.inFlight.set(g, n);
    }
    if (this.shuttingDown) return;
    for (const g of groups) {
      const list = this.parked.get(g);
      if (!list) continue;
      // Only as many as the group has room for: the rest stay parked, so a group with thousands
      // of waiting keys costs O(1) per done, not a pass over all of them.
      const room = Math.max(1, this.groupLimit(g)) - (this.inFlight.get(g) ?? 0);
      if (room <= 0) continue;
      const ready = list.splice(0, room);
      if (list.length === 0) this.parked.delete(g);
      this.parkedCount -= ready.length;
      // Re-queued at their priority; enqueue parks again any that still do not fit (under another
      // full group), and hands the others to waiting workers.
      for (const key of ready) {
        const prio = this.dirty.get(key);
        if (prio !== undefined) this.enqueue(key, prio);
      }
    }
  }

  /** Stops handing out keys; waiting getters receive undefined. In-progress keys may finish. */
  shutDown(): void {
    this.shuttingDown = true;
    this.collectMetrics();
    scrapedQueues.delete(this);
    liveQueues.delete(this);
    this.waiting.clear();
    this.getters.splice(0).forEach((g) => g(undefined));
  }

  /** Shuts down and waits until every in-progress key is done (or the timeout passes). */
  async shutDownWithDrain(timeoutMs = 30_000): Promise<boolean> {
    this.shutDown();
    if (this.processing.size === 0) return true;
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timerDelayMs(timeoutMs));
      this.drainWaiters.push(() => (clearTimeout(t), resolve(true)));
    });
  }

  /**
   * Gauges refreshed when metrics are scraped (kube/metrics.ts): those that depend on time, and the
   * depth, which changes at every add, get and done (setting it there was a tenth of the
   * controller's allocations during a sync: a label object and a sorted key list per call).
   */
  collectMetrics(): void {
    queueMetrics.depth.set({ ...this.labels, priority: 'high' }, this.queues.high.length);
    queueMetrics.depth.set({ ...this.labels, priority: 'low' }, this.queues.low.length);
    // Keys held back by a bulkhead wait too: a sum over priorities is the whole backlog.
    queueMetrics.depth.set({ ...this.labels, priority: 'parked' }, this.parkedCount);
    const t = this.now();
    let total = 0;
    let longest = 0;
    for (const s of this.processing.values()) {
      total += t - s;
      longest = Math.max(longest, t - s);
    }
    queueMetrics.unfinishedWork.set(this.labels, total / 1000);
    queueMetrics.longestRunning.set(this.labels, longest / 1000);
  }
}
