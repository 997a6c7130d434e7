// Records core/v1 Events for objects, as client-go's EventRecorder does:
// - identical events (same object, type, reason, message) within the aggregation window update
//   one Event's count and lastTimestamp instead of creating new ones;
// - a per-object token bucket (a burst, then one per interval) stops a hot reconcile loop from
//   flooding the API server;
// - recording never blocks or fails the caller: writes happen in the background, in order,
//   from a bounded buffer.
import { randomBytes } from 'node:crypto';
import type { KubeClient } from './client.ts';
import { isNotFound } from './client.ts';
import type { CoreEvent, KubeObject } from './types.ts';
import { core, rfc3339 } from './types.ts';
import { TokenBucket } from '../token-bucket.ts';

export interface EventRecorderOptions {
  component: string;
  instance?: string;
  /** Identical events within this window are aggregated into one (ms). */
  aggregationWindowMs?: number;
  /** Per-object spam filter: burst, and one more token every `refillMs`. */
  burst?: number;
  refillMs?: number;
  maxPending?: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

interface Seen {
  name: string;
  namespace: string;
  count: number;
  first: string;
  last: number;
}

export class EventRecorder {
  private readonly client: KubeClient;
  private readonly o: Required<Omit<EventRecorderOptions, 'log' | 'instance'>> & Pick<EventRecorderOptions, 'log' | 'instance'>;
  private readonly seen = new Map<string, Seen>();
  private readonly buckets = new Map<string, TokenBucket>();
  private pending: Array<() => Promise<void>> = [];
  private flushing: Promise<void> | undefined;
  dropped = 0;

  constructor(client: KubeClient, opts: EventRecorderOptions) {
    this.client = client;
    this.o = { aggregationWindowMs: 10 * 60_000, burst: 25, refillMs: 5 * 60_000, maxPending: 1000, ...opts };
  }

  normal(obj: KubeObject, reason: string, message: string): void {
    this.record(obj, 'Normal', reason, message);
  }

  warning(obj: KubeObject, reason: string, message: string): void {
    this.record(obj, 'Warning', reason, message);
  }

  record(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const uid = obj.metadata?.uid ?? '';
    const namespace = obj.metadata?.namespace ?? 'default';
    let bucket = this.buckets.get(uid);
    if (!bucket) this.buckets.set(uid, (bucket = new TokenBucket(1000 / this.o.refillMs, this.o.burst)));
    if (bucket.reserve() > 0) {
      this.dropped++;
      return;
    }
    if (this.pending.length >= this.o.maxPending) {
      this.dropped++;
      return;
    }
    const aggKey = `${uid}\u0000${type}\u0000${reason}\u0000${message}`;
    const nowMs = Date.now();
    const now = rfc3339(new Date(nowMs));
    const prev = this.seen.get(aggKey);
    this.pruneSeen(nowMs);
    if (prev && nowMs - prev.last < this.o.aggregationWindowMs) {
      prev.count++;
      prev.last = nowMs;
      const count = prev.count;
      this.enqueue(async () => {
        try {
          await this.client.patch(core.events, prev.namespace, prev.name, 'merge', { count, lastTimestamp: now });
        } catch (e) {
          if (!isNotFound(e)) throw e;
          this.seen.delete(aggKey);
        }
      });
      return;
    }
    const name = `${obj.metadata?.name ?? 'object'}.${randomBytes(8).toString('hex')}`;
    this.seen.set(aggKey, { name, namespace, count: 1, first: now, last: nowMs });
    const ev: CoreEvent = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: obj.metadata?.name,
        namespace: obj.metadata?.namespace,
        uid: obj.metadata?.uid,
        resourceVersion: obj.metadata?.resourceVersion,
      },
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component: this.o.component },
      reportingComponent: this.o.component,
      reportingInstance: this.o.instance ?? '',
    };
    this.enqueue(async () => {
      await this.client.create(core.events, ev);
    });
  }

  /** Forgets per-object state once the object is gone. */
  forget(uid: string): void {
    this.buckets.delete(uid);
    for (const k of this.seen.keys()) if (k.startsWith(uid + '\u0000')) this.seen.delete(k);
  }

  private pruneSeen(nowMs: number): void {
    if (this.seen.size < 10_000) return;
    for (const [k, s] of this.seen) if (nowMs - s.last > this.o.aggregationWindowMs) this.seen.delete(k);
  }

  private enqueue(job: () => Promise<void>): void {
    this.pending.push(job);
    this.flushing ??= this.flush();
  }

  private async flush(): Promise<void> {
    while (this.pending.length) {
      const job = this.pending.shift()!;
      try {
        await job();
      } catch (e) {
        this.o.log?.('event write failed', { error: (e as Error).message });
      }
    }
    this.flushing = undefined;
  }

  /** Waits until buffered events are written (used on shutdown and in tests). */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }
}
