// The reconcile contract and the one place that decides what happens after a reconcile, as
// controller-runtime: a reconciler returns a Result (done, or requeue after a delay) or throws.
// A thrown TerminalError is not retried; any other error is retried with per-key backoff.
import type { Logger } from 'pino';
import { WorkQueue, type Priority, type WorkQueueOptions } from './workqueue.ts';
import { reconcileMetrics } from './metrics.ts';

export interface Result {
  /** Process the key again after this many ms (periodic refresh). */
  requeueAfter?: number;
  /** Retry with backoff without treating it as an error (e.g. waiting for a dependency). */
  requeue?: boolean;
}

/** An error that retrying cannot fix (bad input); the key waits for the next change. */
export class TerminalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

export type Reconciler = (key: string, signal: AbortSignal) => Promise<Result>;

const alreadyLogged = new WeakSet<object>();

/**
 * Marks an error the reconciler has logged itself (with the object's fields and reconcile id), so
 * that processOne logs it only at debug: each failure is logged once.
 */
export function markLogged<E>(err: E): E {
  if (err !== null && typeof err === 'object') alreadyLogged.add(err);
  return err;
}

export interface ControllerOptions extends Partial<WorkQueueOptions> {
  name: string;
  reconcile: Reconciler;
  workers: number;
  logger: Logger;
}

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  private readonly reconcile: Reconciler;
  private readonly workers: number;
  private readonly log: Logger;
  private readonly abort = new AbortController();
  private running: Promise<void>[] = [];

  constructor(opts: ControllerOptions) {
    this.name = opts.name;
    this.reconcile = opts.reconcile;
    this.workers = Math.max(1, opts.workers);
    this.log = opts.logger.child({ controller: opts.name });
    this.queue = new WorkQueue({ ...opts, name: opts.name });
    reconcileMetrics.maxWorkers.set({ controller: this.name }, this.workers);
  }

  enqueue(key: string, priority: Priority = 'high'): void {
    this.queue.add(key, priority);
  }

  start(): void {
    if (this.running.length) return;
    for (let i = 0; i < this.workers; i++) this.running.push(this.worker());
  }

  /** Stops taking keys and waits for in-progress reconciles (up to the timeout). */
  async stop(timeoutMs = 30_000): Promise<void> {
    const drained = await this.queue.shutDownWithDrain(timeoutMs);
    if (!drained) {
      this.log.warn({ timeoutMs }, 'reconciles still running at shutdown; aborting them');
      this.abort.abort();
    }
    await Promise.all(this.running);
    this.running = [];
  }

  private async worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      await this.processOne(key);
    }
  }

  /** Runs one reconcile and decides what follows: the only place that re-queues keys. */
  async processOne(key: string): Promise<void> {
    const t0 = performance.now();
    reconcileMetrics.activeWorkers.inc({ controller: this.name });
    try {
      const result = await this.reconcile(key, this.abort.signal);
      if (result.requeue) {
        this.queue.addRateLimited(key);
        reconcileMetrics.total.inc({ controller: this.name, result: 'requeue' });
      } else {
        this.queue.forget(key);
        if (result.requeueAfter !== undefined && result.requeueAfter > 0) {
          this.queue.addAfter(key, result.requeueAfter, 'low');
          reconcileMetrics.total.inc({ controller: this.name, result: 'requeue_after' });
        } else {
          reconcileMetrics.total.inc({ controller: this.name, result: 'success' });
        }
      }
    } catch (err) {
      reconcileMetrics.errors.inc({ controller: this.name });
      if (err instanceof TerminalError) {
        this.queue.forget(key);
        reconcileMetrics.total.inc({ controller: this.name, result: 'terminal_error' });
        if (alreadyLogged.has(err)) this.log.debug({ key }, 'reconcile failed; not retrying');
        else this.log.error({ key, err: err.message }, 'reconcile failed; not retrying');
      } else {
        const delay = this.queue.addRateLimited(key);
        reconcileMetrics.total.inc({ controller: this.name, result: 'error' });
        if (err !== null && typeof err === 'object' && alreadyLogged.has(err)) this.log.debug({ key, retryInMs: Math.round(delay) }, 'reconcile failed; will retry');
        else this.log.warn({ key, err: (err as Error).message, retryInMs: Math.round(delay) }, 'reconcile failed; will retry');
      }
    } finally {
      reconcileMetrics.activeWorkers.dec({ controller: this.name });
      reconcileMetrics.time.observe({ controller: this.name }, (performance.now() - t0) / 1000);
      this.queue.done(key);
    }
  }
}
