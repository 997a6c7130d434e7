// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection package:
// acquire when the lease is free or expired, renew every retry period, give up leadership when
// renewals fail for longer than the renew deadline, release on shutdown so a successor need not
// wait for expiry.
//
// Expiry is judged by the local clock from when *we* last saw the lease change (its
// resourceVersion), never by comparing our clock with the holder's renewTime, so clock skew
// between replicas cannot cause two leaders.
import type { KubeClient } from './client.ts';
import { isAlreadyExists, isConflict, isNotFound, sleep } from './client.ts';
import type { Lease } from './types.ts';
import { core } from './types.ts';
import { leaderMetrics } from './metrics.ts';
import { withDeadline } from '../deadline.ts';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  onNewLeader?: (identity: string) => void;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

const microTime = (d = new Date()) => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

/** What we saw of a Lease and when, by our own monotonic clock: the clock-skew-safe basis of expiry. */
export interface LeaseObservation {
  rv: string;
  holder: string;
  at: number;
  durationMs: number;
}

/** Records a sighting of a Lease: the local time moves only when the Lease changed (was renewed). */
export function observeLease(prev: LeaseObservation | undefined, lease: Lease, now = performance.now()): LeaseObservation {
  const rv = lease.metadata?.resourceVersion ?? '';
  if (prev && prev.rv === rv) return prev;
  return { rv, holder: lease.spec?.holderIdentity ?? '', at: now, durationMs: (lease.spec?.leaseDurationSeconds ?? 15) * 1000 };
}

/** Has the Lease gone unrenewed for its whole duration since we saw it change? */
export function leaseExpired(o: LeaseObservation | undefined, now = performance.now()): boolean {
  return o !== undefined && now > o.at + o.durationMs;
}

export class LeaderElector {
  private readonly client: KubeClient;
  private readonly o: Required<Omit<LeaderElectionOptions, 'onNewLeader' | 'log'>> & Pick<LeaderElectionOptions, 'onNewLeader' | 'log'>;
  private observed: LeaseObservation | undefined;
  private leading = false;
  private lastRenew = 0;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private lastReportedLeader = '';

  constructor(client: KubeClient, opts: LeaderElectionOptions) {
    this.client = client;
    this.o = {
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      ...opts,
    };
    if (this.o.renewDeadlineMs >= this.o.leaseDurationMs) throw new Error('renew deadline must be shorter than the lease duration');
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Has the Lease, as last observed, gone unrenewed for its duration (by our clock)? */
  get expired(): boolean {
    return leaseExpired(this.observed);
  }

  start(): void {
    this.loop ??= this.run(this.abort.signal);
  }

  /** Stops campaigning; if leading, releases the lease so another replica takes over at once. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    if (this.leading) {
      // Bounded like a renewal: a release that hangs must not hold up shutdown (the Lease then expires).
      await withDeadline(undefined, this.o.renewDeadlineMs, (signal) => this.release(signal)).catch((e: Error) => this.o.log?.('lease release failed', { error: e.message }));
      this.setLeading(false);
    }
  }

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const started = performance.now();
      // A leader may try only until its renew deadline: a request held up (a slow apiserver,
      // Retry-After answers) is aborted then, and leadership ends before the Lease can expire for
      // the others. A contender has the same budget per attempt.
      const budget = this.leading ? this.lastRenew + this.o.renewDeadlineMs - started : this.o.renewDeadlineMs;
      let ok = false;
      if (budget > 0) {
        try {
          ok = await withDeadline(signal, budget, (s) => this.tryAcquireOrRenew(s));
        } catch (e) {
          if (!signal.aborted) this.o.log?.('lease update failed', { error: (e as Error).message });
        }
      }
      if (ok) {
        // The Lease says renewed at the attempt's start (its renewTime), and the others count
        // its expiry from no earlier than that: so does the renew deadline.
        this.lastRenew = started;
        if (!this.leading) this.setLeading(true);
      } else if (this.leading && performance.now() - this.lastRenew >= this.o.renewDeadlineMs) {
        // We can no longer prove we hold the lease: stop leader-only work before it expires.
        this.setLeading(false);
      }
      // Jitter the retry so contenders do not move in lock-step; a leader wakes no later than its
      // renew deadline, to step down on time if it must.
      const wait = this.leading
        ? Math.min(this.o.retryPeriodMs, this.lastRenew + this.o.renewDeadlineMs - performance.now())
        : this.o.retryPeriodMs * (1 + Math.random() * 0.2);
      await sleep(Math.max(0, wait), signal);
    }
  }

  private setLeading(v: boolean): void {
    if (this.leading === v) return;
    this.leading = v;
    leaderMetrics.isLeader.set({ name: this.o.name }, v ? 1 : 0);
    this.o.log?.(v ? 'became leader' : 'stopped leading', { lease: `${this.o.namespace}/${this.o.name}`, identity: this.o.identity });
    if (v) this.o.onStartedLeading();
    else this.o.onStoppedLeading();
  }

  /**
   * One attempt: returns true when we hold the lease afterwards. `signal` bounds it (its
   * requests are aborted, and it rejects with the signal's reason).
   */
  async tryAcquireOrRenew(signal?: AbortSignal): Promise<boolean> {
    const now = new Date();
    const durationSec = Math.ceil(this.o.leaseDurationMs / 1000);
    const existing = await this.client.tryGet<Lease>(core.leases, this.o.namespace, this.o.name, { signal });
    if (!existing) {
      const lease: Lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.o.name, namespace: this.o.namespace },
        spec: { holderIdentity: this.o.identity, leaseDurationSeconds: durationSec, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
      };
      try {
        const created = await this.client.create(core.leases, lease, { signal });
        this.observe(created);
        return true;
      } catch (e) {
        if (isAlreadyExists(e)) return false;
        throw e;
      }
    }
    this.observe(existing);
    const spec = existing.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const iHold = holder === this.o.identity;
    if (holder && !iHold) {
      if (!leaseExpired(this.observed)) return false;
    }
    const next: Lease = {
      ...existing,
      spec: {
        ...spec,
        holderIdentity: this.o.identity,
        leaseDurationSeconds: durationSec,
        renewTime: microTime(now),
        acquireTime: iHold ? (spec.acquireTime ?? microTime(now)) : microTime(now),
        leaseTransitions: iHold ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
      },
    };
    try {
      const updated = await this.client.update(core.leases, next, { signal });
      this.observe(updated);
      return true;
    } catch (e) {
      if (isConflict(e) || isNotFound(e)) return false;
      throw e;
    }
  }

  /** Records a sighting of the Lease (also one read elsewhere, e.g. in a list), for expiry. */
  observe(lease: Lease): void {
    const holder = lease.spec?.holderIdentity ?? '';
    this.observed = observeLease(this.observed, lease);
    if (holder && holder !== this.lastReportedLeader) {
      this.lastReportedLeader = holder;
      this.o.onNewLeader?.(holder);
    }
  }

  /** Gives the Lease up if we hold it, so that another replica may take it at once. */
  async release(signal?: AbortSignal): Promise<void> {
    const lease = await this.client.tryGet<Lease>(core.leases, this.o.namespace, this.o.name, { signal });
    if (!lease || lease.spec?.holderIdentity !== this.o.identity) return;
    // As client-go's ReleaseOnCancel: an empty holder with a 1 s duration frees it at once.
    await this.client.update(core.leases, {
      ...lease,
      spec: { ...lease.spec, holderIdentity: null, leaseDurationSeconds: 1, renewTime: microTime() },
    }, { signal });
  }
}
