// Records core/v1 Events for objects, as client-go's EventBroadcaster and EventCorrelator do
// (tools/record: events_cache.go, event.go), so that `kubectl describe` shows what happened
// without the Events costing more apiserver writes than the work they describe:
// - identical events (same object, type, reason, message) are counted on one Event: the first is
//   created, the next ones patch its count and lastTimestamp;
// - more than `aggregateMaxEvents` different messages of the same object, type and reason within
//   `aggregationWindowMs` are combined into one Event "(combined from similar events): <latest>";
// - a per-object token bucket (a burst, then one per `refillMs`) stops a hot reconcile loop from
//   flooding the apiserver;
// - recording never blocks or fails the caller. Writes wait in a buffer keyed by Event name, so
//   occurrences that arrive while a write waits fold into it (a count bump, not a request). The
//   buffer is written by a few workers (one write per Event name at a time, in order) at a bounded
//   rate, and a failed write is retried with backoff.
// Unlike client-go, whatever is still not written (spam filter, full buffer, failed write,
// shutdown) is counted in tessera_events_dropped_total: a missing Event must be visible.
import { randomBytes } from 'node:crypto';
import type { KubeClient } from './client.ts';
import { ApiError, isAlreadyExists, isNotFound, sleep } from './client.ts';
import { eventDropReasons, eventMetrics, type EventDropReason } from './metrics.ts';
import type { CoreEvent, KubeObject } from './types.ts';
import { core, rfc3339 } from './types.ts';
import { settledWithin, startDeadline } from '../deadline.ts';
import { TokenBucket } from '../token-bucket.ts';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  component: string;
  instance?: string;
  /** More than this many different messages of one object, type and reason are combined (client-go: 10). */
  aggregateMaxEvents?: number;
  /** ... when they come within this window of each other (ms; client-go: 10 minutes). */
  aggregationWindowMs?: number;
  /** Per-object spam filter: burst, and one more token every `refillMs` (client-go: 25, 5 minutes). */
  burst?: number;
  refillMs?: number;
  /** Objects whose aggregation, count and spam state is remembered (least recently used go; client-go: 4096). */
  cacheSize?: number;
  /** Event writes waiting in the buffer; an occurrence that folds into a waiting write takes no room. */
  maxPending?: number;
  /** Event writes in flight at once (never two for the same Event). */
  writeConcurrency?: number;
  /** Event writes per second, and burst: Events share the client's rate limit with reconciles. */
  writeQps?: number;
  writeBurst?: number;
  /**
   * Reconcile work waiting for a worker (the controllers' queued keys). While there is some,
   * Event writes yield to it: at most `busyWriteQps` per second, so that a large sync's Secret
   * and status writes get the apiserver first; the buffer catches up when the queues are empty.
   */
  backlog?: () => number;
  busyWriteQps?: number;
  /** Tries per write (transport errors, 429 and 5xx are retried), first backoff and its cap (ms). */
  maxAttempts?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Deadline of one write request (ms). */
  writeTimeoutMs?: number;
  /** How long shutdown() keeps writing what is buffered before it drops the rest (ms). */
  shutdownTimeoutMs?: number;
  /** Wall clock (ms since the epoch): Event timestamps, aggregation window and spam refill. */
  now?: () => number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

type Settings = Required<Omit<EventRecorderOptions, 'log' | 'instance' | 'backlog'>> & Pick<EventRecorderOptions, 'log' | 'instance' | 'backlog'>;

export const eventRecorderDefaults = {
  aggregateMaxEvents: 10,
  aggregationWindowMs: 10 * 60_000,
  burst: 25,
  refillMs: 5 * 60_000,
  cacheSize: 4096,
  maxPending: 10_000,
  writeConcurrency: 4,
  writeQps: 25,
  writeBurst: 50,
  busyWriteQps: 5,
  maxAttempts: 6,
  retryBaseMs: 500,
  retryMaxMs: 10_000,
  writeTimeoutMs: 10_000,
  shutdownTimeoutMs: 10_000,
} as const;

/** client-go's EventAggregatorByReasonMessageFunc prefix. */
export const combinedMessagePrefix = '(combined from similar events): ';

// Events are written by the apiserver as given; these bound what one Event holds in the buffer
// (reasons and messages can carry tenant-caused text).
const maxReasonLength = 128;
const maxMessageLength = 4096;
// An Event's name is the object's name plus a 17-character suffix and must stay a valid name.
const maxNameLength = 253;
const nameSuffixLength = 17;
// Per-object lists: a few reasons per object, and the aggregator caps messages per reason.
const maxAggregatesPerObject = 32;
const maxObservationsPerObject = 64;

type InvolvedObject = CoreEvent['involvedObject'];

/** Several different messages of one object, type and reason seen recently (client-go's aggregateRecord). */
interface AggregateRecord {
  /** At most `aggregateMaxEvents` - 1 between occurrences, oldest first (an array: cheaper than a Set at this size). */
  messages: string[];
  lastMs: number;
}

/** The Event that counts one kind of occurrence (client-go's eventLog). */
interface Observation {
  name: string;
  count: number;
  /** ms since the epoch; written as RFC 3339 (numbers, not strings, while waiting: less heap). */
  firstMs: number;
}

interface ObjectState {
  spam: TokenBucket;
  aggregates: RecentList<AggregateRecord>;
  observations: RecentList<Observation>;
}

/** One Event write waiting in the buffer or in flight: the latest state of that Event. */
interface EventWrite {
  /** namespace/name of the Event: the buffer's key. */
  key: string;
  name: string;
  namespace: string;
  operation: 'create' | 'patch';
  involvedObject: InvolvedObject;
  type: EventType;
  reason: string;
  message: string;
  count: number;
  /** ms since the epoch, formatted when the write is sent. */
  firstMs: number;
  lastMs: number;
}

export class EventRecorder {
  private readonly client: Pick<KubeClient, 'create' | 'patch'>;
  private readonly o: Settings;
  /** Per-object correlation state, least recently used first. */
  private readonly objects = new Map<string, ObjectState>();
  /** Writes not yet started, in arrival order; at most one per Event. */
  private readonly pending = new Map<string, EventWrite>();
  /** Events with a write in flight: their next write waits in `pending`. */
  private readonly inFlight = new Set<string>();
  private readonly rate: TokenBucket;
  /** Paces writes while reconciles wait (no burst: the point is to leave the apiserver to them). */
  private readonly busyRate: TokenBucket;
  private workers = 0;
  private busyWorkers = 0;
  private idleWaiters: Array<() => void> = [];
  /** Set by shutdown(): no more retries nor rate limit; aborted at its deadline. */
  private closing = false;
  private readonly closed = new AbortController();
  private readonly stopped = new AbortController();
  private readonly droppedBy = Object.fromEntries(eventDropReasons.map((r) => [r, 0])) as Record<EventDropReason, number>;
  private lastFullLogMs = -Infinity;
  private fullSinceLog = 0;

  constructor(client: Pick<KubeClient, 'create' | 'patch'>, opts: EventRecorderOptions) {
    this.client = client;
    this.o = { ...eventRecorderDefaults, now: () => Date.now(), ...opts };
    this.o.writeConcurrency = Math.max(1, Math.floor(this.o.writeConcurrency));
    this.rate = new TokenBucket(this.o.writeQps, this.o.writeBurst);
    this.busyRate = new TokenBucket(this.o.busyWriteQps, 1);
    // Every reason reads 0 before the first drop, so an alert on a rate of it has data.
    for (const reason of eventDropReasons) eventMetrics.dropped.inc({ reason }, 0);
    for (const operation of ['create', 'patch']) for (const result of ['success', 'error']) eventMetrics.writes.inc({ operation, result }, 0);
    eventMetrics.pending.set(0);
  }

  normal(obj: KubeObject, reason: string, message: string): void {
    this.record(obj, 'Normal', reason, message);
  }

  warning(obj: KubeObject, reason: string, message: string): void {
    this.record(obj, 'Warning', reason, message);
  }

  record(obj: KubeObject, type: EventType, reason: string, message: string): void {
    if (this.stopped.signal.aborted) return this.drop('shutdown');
    reason = reason.slice(0, maxReasonLength);
    message = message.slice(0, maxMessageLength);
    const nowMs = this.o.now();
    const involvedObject: InvolvedObject = {
      apiVersion: obj.apiVersion,
      kind: obj.kind,
      name: obj.metadata?.name,
      namespace: obj.metadata?.namespace,
      uid: obj.metadata?.uid,
      resourceVersion: obj.metadata?.resourceVersion,
    };
    const state = this.objectState(involvedObject);

    // As client-go's EventCorrelator: aggregate, then count, then filter. A filtered or dropped
    // occurrence is still counted, so the next Event written about it carries the true count.
    const aggregated = this.aggregate(state, type, reason, message, nowMs);
    const observation = this.observe(state, aggregated.key, involvedObject.name ?? 'object', nowMs);

    const namespace = involvedObject.namespace || 'default';
    const key = `${namespace}/${observation.name}`;
    const waiting = this.pending.get(key);
    if (waiting) {
      // Folds into the write that has not started: one request carries both occurrences. It
      // costs no request, so neither the buffer nor the spam filter counts it.
      waiting.count = observation.count;
      waiting.message = aggregated.message;
      waiting.lastMs = nowMs;
      return;
    }
    // As client-go, a full buffer drops before the spam filter sees the occurrence, so it does
    // not spend the object's budget.
    if (this.pending.size >= this.o.maxPending) return this.drop('queue_full');
    if (!state.spam.tryTake()) return this.drop('spam_filter');
    this.pending.set(key, {
      key,
      name: observation.name,
      namespace,
      operation: observation.count === 1 ? 'create' : 'patch',
      involvedObject,
      type,
      reason,
      message: aggregated.message,
      count: observation.count,
      firstMs: observation.firstMs,
      lastMs: nowMs,
    });
    eventMetrics.pending.set(this.pending.size);
    this.startWorkers();
  }

  /** Forgets per-object state once the object is gone. */
  forget(uid: string): void {
    if (uid) this.objects.delete(uid);
  }

  /** Events not written since this recorder started, by reason (the metric counts all recorders). */
  get droppedByReason(): Readonly<Record<EventDropReason, number>> {
    return { ...this.droppedBy };
  }

  get dropped(): number {
    return eventDropReasons.reduce((sum, r) => sum + this.droppedBy[r], 0);
  }

  get pendingWrites(): number {
    return this.pending.size;
  }

  /** Waits until buffered events are written (used in tests; shutdown() for the process). */
  async drain(): Promise<void> {
    if (this.workers === 0 && this.pending.size === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Writes what is buffered, without rate limit or retries (the reconciles whose throughput the
   * rate limit protects have stopped), for at most `shutdownTimeoutMs`; then aborts the writes in
   * flight and drops the rest, counted as `shutdown`.
   */
  async shutdown(): Promise<void> {
    this.closing = true;
    this.closed.abort();
    this.startWorkers();
    const drained = this.drain();
    await settledWithin(drained, this.o.shutdownTimeoutMs);
    this.stopped.abort();
    const left = this.pending.size;
    this.pending.clear();
    eventMetrics.pending.set(0);
    for (let i = 0; i < left; i++) this.drop('shutdown');
    await drained;
  }

  // ---------------------------------------------------------------------------------------------
  // Correlation

  /** The object's state, moved to the most recently used end; the least recently used goes. */
  private objectState(ref: InvolvedObject): ObjectState {
    const id = ref.uid || `${ref.apiVersion}\u0000${ref.kind}\u0000${ref.namespace}\u0000${ref.name}`;
    let state = this.objects.get(id);
    if (state) this.objects.delete(id);
    else state = { spam: new TokenBucket(1000 / this.o.refillMs, this.o.burst, this.o.now), aggregates: new RecentList(maxAggregatesPerObject), observations: new RecentList(maxObservationsPerObject) };
    this.objects.set(id, state);
    evictOldest(this.objects, this.o.cacheSize);
    return state;
  }

  /**
   * client-go's EventAggregator: the key that counts this occurrence, and its message. Past
   * `aggregateMaxEvents` different messages for one type and reason within the window, the
   * occurrence counts on one combined Event whose message is the latest one, prefixed.
   */
  private aggregate(state: ObjectState, type: EventType, reason: string, message: string, nowMs: number): { key: string; message: string } {
    const aggregateKey = `${type}\u0000${reason}`;
    let record = state.aggregates.get(aggregateKey);
    if (!record || nowMs - record.lastMs > this.o.aggregationWindowMs) record = { messages: [], lastMs: nowMs };
    state.aggregates.set(aggregateKey, record);
    if (!record.messages.includes(message)) record.messages.push(message);
    record.lastMs = nowMs;
    if (record.messages.length < this.o.aggregateMaxEvents) return { key: `${aggregateKey}\u0000${message}`, message };
    // Keeps the set below the threshold: the oldest message leaves, as client-go's PopAny.
    record.messages.shift();
    return { key: `${aggregateKey}\u0001combined`, message: combinedMessagePrefix + message };
  }

  /** client-go's eventLogger: the Event counting this key, its count bumped, or a new one. */
  private observe(state: ObjectState, key: string, objectName: string, nowMs: number): Observation {
    let observation = state.observations.get(key);
    if (observation) observation.count++;
    else observation = { name: eventName(objectName), count: 1, firstMs: nowMs };
    state.observations.set(key, observation);
    return observation;
  }

  // ---------------------------------------------------------------------------------------------
  // Writing

  /** Enough workers for the waiting writes, up to the concurrency (a worker with nothing it may take ends at once). */
  private startWorkers(): void {
    const idle = this.workers - this.busyWorkers;
    const wanted = Math.min(this.o.writeConcurrency - this.workers, this.pending.size - idle);
    for (let i = 0; i < wanted; i++) void this.worker();
  }

  private async worker(): Promise<void> {
    this.workers++;
    try {
      while (this.nextWrite(false)) {
        if (!this.closing && (this.o.backlog?.() ?? 0) > 0) await this.busyRate.take(this.closed.signal);
        if (!this.closing) await this.rate.take(this.closed.signal);
        const write = this.nextWrite(true);
        if (!write) continue; // another worker took it while this one waited for the rate limit
        this.busyWorkers++;
        this.inFlight.add(write.key);
        try {
          await this.write(write);
        } finally {
          this.inFlight.delete(write.key);
          this.busyWorkers--;
        }
      }
    } finally {
      this.workers--;
      if (this.workers === 0 && this.pending.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  /** The oldest waiting write whose Event has no write in flight; `take` removes it from the buffer. */
  private nextWrite(take: boolean): EventWrite | undefined {
    // At most `writeConcurrency` Events are in flight, so this skips at most that many entries.
    for (const write of this.pending.values()) {
      if (this.inFlight.has(write.key)) continue;
      if (take) {
        this.pending.delete(write.key);
        eventMetrics.pending.set(this.pending.size);
      }
      return write;
    }
    return undefined;
  }

  /**
   * Writes one Event, as client-go's recordToSink: a patch of an Event that is gone (expired,
   * deleted) creates it; a create that finds it (an earlier attempt that did reach the server)
   * patches it; transport errors, 429 (the apiserver's priority and fairness asking to come back
   * later) and 5xx are retried with backoff; any other answer is final (the namespace is gone or
   * terminating, the Event is invalid), since the same request would get it again.
   */
  private async write(write: EventWrite): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const operation = write.operation;
      const deadline = startDeadline(this.stopped.signal, this.o.writeTimeoutMs);
      const signal = deadline.signal;
      try {
        if (operation === 'create') await this.client.create(core.events, toCoreEvent(write, this.o), { signal });
        else await this.client.patch(core.events, write.namespace, write.name, 'merge', { count: write.count, lastTimestamp: rfc3339(new Date(write.lastMs)), message: write.message }, { signal });
        eventMetrics.writes.inc({ operation, result: 'success' });
        return;
      } catch (e) {
        eventMetrics.writes.inc({ operation, result: 'error' });
        if (this.stopped.signal.aborted) return this.drop('shutdown');
        const last = attempt >= this.o.maxAttempts;
        if (!last && operation === 'patch' && isNotFound(e)) {
          write.operation = 'create';
          continue;
        }
        if (!last && operation === 'create' && isAlreadyExists(e)) {
          write.operation = 'patch';
          continue;
        }
        if (last || this.closing || !retryable(e)) {
          this.o.log?.('event not written', { reason: write.reason, object: `${write.namespace}/${write.involvedObject.name ?? ''}`, event: write.name, attempts: attempt, error: (e as Error).message });
          return this.drop('write_failed');
        }
        await sleep(this.backoffMs(attempt), this.closed.signal);
        this.absorbNewer(write);
      } finally {
        deadline.release();
      }
    }
  }

  /** Before a retry: occurrences that arrived meanwhile ride along instead of waiting for it. */
  private absorbNewer(write: EventWrite): void {
    const newer = this.pending.get(write.key);
    if (!newer) return;
    this.pending.delete(write.key);
    eventMetrics.pending.set(this.pending.size);
    write.count = newer.count;
    write.message = newer.message;
    write.lastMs = newer.lastMs;
  }

  /** client-go randomises the first sleep so that clients do not retry in step; then it doubles here. */
  private backoffMs(attempt: number): number {
    if (attempt === 1) return Math.random() * this.o.retryBaseMs;
    return Math.min(this.o.retryMaxMs, this.o.retryBaseMs * 2 ** Math.min(attempt - 1, 30));
  }

  private drop(reason: EventDropReason): void {
    this.droppedBy[reason]++;
    eventMetrics.dropped.inc({ reason });
    if (reason !== 'queue_full') return;
    // One line a minute while the buffer overflows, not one per Event.
    this.fullSinceLog++;
    const nowMs = this.o.now();
    if (nowMs - this.lastFullLogMs < 60_000) return;
    this.o.log?.('event buffer full, events dropped', { dropped: this.fullSinceLog, maxPending: this.o.maxPending });
    this.lastFullLogMs = nowMs;
    this.fullSinceLog = 0;
  }
}

function retryable(e: unknown): boolean {
  if (!(e instanceof ApiError)) return true; // transport error or deadline: the server may not have seen it
  return e.code === 429 || e.code >= 500;
}

/** Random bytes for Event names, drawn from the system in blocks of 4 KiB (one call per 512 names, not one per name). */
let randomBlock = Buffer.alloc(0);
let randomAt = 0;

function eventName(objectName: string): string {
  if (randomAt + 8 > randomBlock.length) {
    randomBlock = randomBytes(4096);
    randomAt = 0;
  }
  const suffix = randomBlock.toString('hex', randomAt, randomAt + 8);
  randomAt += 8;
  return `${objectName.slice(0, maxNameLength - nameSuffixLength)}.${suffix}`;
}

function toCoreEvent(write: EventWrite, o: Settings): CoreEvent {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: write.name, namespace: write.namespace },
    involvedObject: write.involvedObject,
    reason: write.reason,
    message: write.message,
    type: write.type,
    count: write.count,
    firstTimestamp: rfc3339(new Date(write.firstMs)),
    lastTimestamp: rfc3339(new Date(write.lastMs)),
    source: { component: o.component },
    reportingComponent: o.component,
    reportingInstance: o.instance ?? '',
  };
}

function evictOldest<K, V>(map: Map<K, V>, max: number): void {
  while (map.size > max) map.delete(map.keys().next().value!);
}

/**
 * The few keys of one object (its reasons, its Events), least recently set first, at most `max`.
 * 4,096 objects each keep two of these: as Maps they took some 5 MB at 10,000 ExternalSecrets
 * (a Map's table is about 500 bytes even for one entry); a short array is a tenth of that, and
 * a linear search over at most 64 entries costs less than hashing.
 */
class RecentList<V> {
  private readonly entries: Array<[string, V]> = [];
  private readonly max: number;
  constructor(max: number) {
    this.max = max;
  }
  get(key: string): V | undefined {
    return this.entries.find((e) => e[0] === key)?.[1];
  }
  /** Sets `key` as the most recent; the least recent goes past `max`. */
  set(key: string, value: V): void {
    const i = this.entries.findIndex((e) => e[0] === key);
    if (i >= 0) this.entries.splice(i, 1);
    this.entries.push([key, value]);
    if (this.entries.length > this.max) this.entries.shift();
  }
}
