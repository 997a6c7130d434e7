// The reconcile contract and the one place that decides what happens after a reconcile, as
// controller-runtime: a reconciler returns a Result (done, or requeue after a delay) or throws.
// A terminal error is not retried; any other error is retried with per-key backoff.
//
// Every reconcile runs under one AbortSignal: the controller's shutdown combined with its own
// deadline (--reconcile-timeout), as controller-runtime wraps each reconcile in a context with a
// timeout. Reconcilers hand the signal to every kube and provider call, so a reconcile past its
// deadline, or one still running when shutdown's grace ends, frees its worker and sockets at once.
import type { Logger } from 'pino';
import { timerDelayMs } from '../api/duration.ts';
import { WorkQueue, type Priority, type WorkQueueOptions } from './workqueue.ts';
import { initControllerMetrics, reconcileMetrics } from './metrics.ts';
import { settledWithin, startDeadline, type Deadline } from '../deadline.ts';

export interface Result {
  /** Process the key again after this many ms (periodic refresh). */
  requeueAfter?: number;
}

/**
 * What an error thrown by a reconciler may say about retrying. Read structurally, so that a
 * domain's own error classes (the ExternalSecret catalog) can say it without this runtime knowing
 * them, as controller-runtime finds a TerminalError anywhere in an error's wrap chain.
 * - `terminal: true`: retrying cannot fix it (bad input); the key waits for the next change.
 * - `retryAfterMs`: retry with backoff, but not sooner than this: the failure needs someone to act
 *   (credentials refused, access denied), so fast retries would only repeat it.
 * - `retryWithinMs`: retry with backoff, but not later than this: the object asks to be looked at
 *   that often (a store's spec.refreshInterval), and a fix made outside the cluster is seen then.
 */
export interface RetryHints {
  readonly terminal?: boolean;
  readonly retryAfterMs?: number;
  readonly retryWithinMs?: number;
}

/** An error that retrying cannot fix (bad input); the key waits for the next change. */
export class TerminalError extends Error implements RetryHints {
  readonly terminal = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

/**
 * Whether the error says it is terminal: the first error of its cause chain that says anything
 * (has a boolean `terminal`) decides, so a wrapper that calls itself retryable wins over its cause.
 */
export function isTerminal(err: unknown): boolean {
  for (let e = err, depth = 0; e !== null && typeof e === 'object' && depth < 16; e = (e as { cause?: unknown }).cause, depth++) {
    const said = (e as RetryHints).terminal;
    if (typeof said === 'boolean') return said;
  }
  return false;
}

/** The least delay before a retry that the error asks for (0 when it asks for none). */
/** The longest delay before a retry that the error allows (Infinity when it sets none). */
export function retryWithinOf(err: unknown): number {
  const ms = err !== null && typeof err === 'object' ? (err as RetryHints).retryWithinMs : undefined;
  return typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? ms : Infinity;
}

export function retryAfterOf(err: unknown): number {
  const ms = err !== null && typeof err === 'object' ? (err as RetryHints).retryAfterMs : undefined;
  return typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? ms : 0;
}

/**
 * Reconciles one key. `signal` aborts when the reconcile passes its deadline or the controller
 * stops for good: pass it to every call that leaves the process.
 */
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

/** Default deadline of one reconcile: --reconcile-timeout. */
export const DEFAULT_RECONCILE_TIMEOUT_MS = 2 * 60_000;
/** After stop() aborts the reconciles still running, how long it waits for them to return. */
export const DEFAULT_ABORT_GRACE_MS = 5_000;

export interface ControllerOptions extends Partial<WorkQueueOptions> {
  name: string;
  reconcile: Reconciler;
  workers: number;
  logger: Logger;
  /** Deadline of one reconcile (ms); DEFAULT_RECONCILE_TIMEOUT_MS when absent. */
  reconcileTimeoutMs?: number | undefined;
  /** How long stop() waits for in-progress reconciles before aborting them (--shutdown-timeout). */
  shutdownGraceMs?: number | undefined;
  /** How long stop() then waits for aborted reconciles to return; DEFAULT_ABORT_GRACE_MS when absent. */
  abortGraceMs?: number | undefined;
}

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  readonly reconcileTimeoutMs: number;
  private readonly shutdownGraceMs: number;
  private readonly abortGraceMs: number;
  private readonly reconcile: Reconciler;
  private readonly workers: number;
  private readonly log: Logger;
  /** Aborted when stop()'s grace is over: every reconcile still running is cancelled. */
  private readonly shutdown = new AbortController();
  private running: Promise<void>[] = [];
  private inProgress = 0;

  constructor(opts: ControllerOptions) {
    this.name = opts.name;
    this.reconcile = opts.reconcile;
    this.workers = Math.max(1, opts.workers);
    this.reconcileTimeoutMs = opts.reconcileTimeoutMs !== undefined && opts.reconcileTimeoutMs > 0 ? timerDelayMs(opts.reconcileTimeoutMs) : DEFAULT_RECONCILE_TIMEOUT_MS;
    this.shutdownGraceMs = opts.shutdownGraceMs !== undefined && opts.shutdownGraceMs >= 0 ? opts.shutdownGraceMs : 30_000;
    this.abortGraceMs = opts.abortGraceMs ?? DEFAULT_ABORT_GRACE_MS;
    this.log = opts.logger.child({ controller: opts.name });
    this.queue = new WorkQueue({ ...opts, name: opts.name });
    initControllerMetrics(this.name, this.workers);
  }

  enqueue(key: string, priority: Priority = 'high'): void {
    this.queue.add(key, priority);
  }

  start(): void {
    if (this.running.length) return;
    for (let i = 0; i < this.workers; i++) this.running.push(this.worker());
  }

  /**
   * Stops taking keys and waits for in-progress reconciles up to `graceMs`; then aborts those
   * still running (their signal fires, so their kube and provider calls end at once) and waits
   * a little more for them to return.
   */
  async stop(graceMs = this.shutdownGraceMs): Promise<void> {
    const drained = await this.queue.shutDownWithDrain(graceMs);
    if (!drained) {
      this.log.warn({ graceMs, inProgress: this.inProgress }, 'reconciles still running at the end of the shutdown grace; aborting them');
      this.shutdown.abort(new DOMException(`controller ${this.name} is shutting down`, 'AbortError'));
    }
    // A reconciler that ignores its signal must not hold the process forever.
    if (!(await settledWithin(Promise.all(this.running), this.abortGraceMs))) {
      this.log.error({ inProgress: this.inProgress }, 'reconciles did not return after being aborted; stopping without them');
    }
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
    this.inProgress++;
    // Released when the reconcile ends, so that nothing of it stays alive until the deadline.
    const deadline = startDeadline(this.shutdown.signal, this.reconcileTimeoutMs);
    try {
      const result = await this.reconcile(key, deadline.signal);
      this.queue.forget(key);
      if (result.requeueAfter !== undefined && result.requeueAfter > 0) {
        this.queue.addAfter(key, result.requeueAfter, 'low');
        reconcileMetrics.total.inc({ controller: this.name, result: 'requeue_after' });
      } else {
        reconcileMetrics.total.inc({ controller: this.name, result: 'success' });
      }
    } catch (err) {
      this.onError(key, err, deadline, performance.now() - t0);
    } finally {
      deadline.release();
      this.inProgress--;
      reconcileMetrics.activeWorkers.dec({ controller: this.name });
      reconcileMetrics.time.observe({ controller: this.name }, (performance.now() - t0) / 1000);
      this.queue.done(key);
    }
  }

  private onError(key: string, err: unknown, deadline: Deadline, elapsedMs: number): void {
    reconcileMetrics.errors.inc({ controller: this.name });
    const message = err instanceof Error ? err.message : String(err);
    if (this.shutdown.signal.aborted) {
      // Cancelled by shutdown: the queue takes no keys any more; the next leader reconciles it.
      reconcileMetrics.total.inc({ controller: this.name, result: 'error' });
      this.log.info({ key, err: message }, 'reconcile aborted at shutdown');
      return;
    }
    if (deadline.expired) {
      // Past its deadline, whatever the error it ended with: retried with backoff, as any error.
      reconcileMetrics.deadlineExceeded.inc({ controller: this.name });
      reconcileMetrics.total.inc({ controller: this.name, result: 'error' });
      const delay = this.queue.addRateLimited(key);
      this.log.warn({ key, timeoutMs: this.reconcileTimeoutMs, elapsedMs: Math.round(elapsedMs), retryInMs: Math.round(delay), err: message }, 'reconcile passed its deadline and was aborted; will retry');
      return;
    }
    const logged = err !== null && typeof err === 'object' && alreadyLogged.has(err);
    if (isTerminal(err)) {
      this.queue.forget(key);
      // As controller-runtime: a terminal error is an error (result="error", which dashboards'
      // error ratios count) and is also counted apart.
      reconcileMetrics.terminalErrors.inc({ controller: this.name });
      reconcileMetrics.total.inc({ controller: this.name, result: 'error' });
      if (logged) this.log.debug({ key }, 'reconcile failed; not retrying until the object changes');
      else this.log.error({ key, err: message }, 'reconcile failed; not retrying until the object changes');
      return;
    }
    const delay = this.queue.addRateLimited(key, 'low', retryAfterOf(err), retryWithinOf(err));
    reconcileMetrics.total.inc({ controller: this.name, result: 'error' });
    if (logged) this.log.debug({ key, retryInMs: Math.round(delay) }, 'reconcile failed; will retry');
    else this.log.warn({ key, err: message, retryInMs: Math.round(delay) }, 'reconcile failed; will retry');
  }
}
