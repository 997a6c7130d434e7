// A pool of worker threads for untrusted computation (templates, rewrite transforms, key
// generation): a tenant's manifest decides how much CPU and memory a render takes, so renders run
// off the controller's event loop, each worker under V8 resource limits and each task under a
// wall-clock deadline. A task that runs past its deadline gets its worker terminated
// (terminate() stops even a synchronous loop); a worker that dies (out of memory or otherwise)
// fails only the task it was running. Either way a fresh worker takes its place, and no failure
// escapes as an uncaught exception: every worker has 'error' and 'exit' listeners, and every
// outcome settles exactly one task's promise.
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { FromWorker, ToWorker } from './serve.ts';
import { timerDelayMs } from '../api/duration.ts';

/**
 * The worker module beside this one: worker.ts when Node runs the sources, worker.js when it runs
 * the compiled package (dist/), where Node refuses to strip types under node_modules. A URL is not
 * an import specifier, so the compiler's extension rewriting does not reach it.
 */
function defaultWorkerUrl(): URL {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./worker${ext}`, import.meta.url);
}

export interface ComputePoolOptions {
  /** Worker threads (each runs one task at a time). */
  workers: number;
  /** Wall-clock budget of one task, from the moment a worker starts it. */
  timeoutMs: number;
  /** V8 old-generation heap of each worker (MiB). */
  memoryLimitMb: number;
  /** V8 stack of each worker (MiB). */
  stackSizeMb?: number | undefined;
  /** How long a worker may sit idle before it is ended (default 60 s). */
  idleRetireMs?: number | undefined;
  /** The worker's entry module; default: the step-3 worker (./worker.ts). */
  workerUrl?: URL | undefined;
  /** Told when a worker is lost (deadline, out of memory, crash), for logs and metrics. */
  onWorkerLost?: ((reason: 'time' | 'memory' | 'crash') => void) | undefined;
}

/** A task went over the pool's time or memory budget. The message names the budget and its size. */
export class PoolBudgetError extends Error {
  readonly budget: 'time' | 'memory';
  constructor(budget: 'time' | 'memory', message: string) {
    super(message);
    this.name = 'PoolBudgetError';
    this.budget = budget;
  }
}

/** A worker failed for another reason. Only the error's name and code survive (no tenant text). */
export class WorkerTaskError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkerTaskError';
  }
}

interface Task {
  id: number;
  key: string;
  payload: unknown;
  transfer: ArrayBuffer[];
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  /** Set once the slot's fate is decided (deadline, error, exit, close); later events are ignored. */
  gone: boolean;
  task: Task | undefined;
  timer: NodeJS.Timeout | undefined;
  /** Ends a worker that has had nothing to do for IDLE_RETIRE_MS. */
  idleTimer: NodeJS.Timeout | undefined;
}

export function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

let heapFlagsReleased = false;

/**
 * --max-old-space-size and --max-semi-space-size (tessera run sets them itself, src/cli/heap.ts;
 * NODE_OPTIONS may too) are process-wide V8 flags, and they override every worker's resourceLimits:
 * with --max-old-space-size=150 a worker told 32 MiB got a 162 MiB heap. V8 read them when the
 * main isolate started; clearing them now (0 is V8's "not set") changes nothing for the main
 * thread and lets each new worker use the limits it is given.
 */
function releaseHeapFlags(): void {
  if (heapFlagsReleased) return;
  heapFlagsReleased = true;
  setFlagsFromString('--max-old-space-size=0');
  setFlagsFromString('--max-semi-space-size=0');
}

/** After this many workers in a row die before they are ready, new ones start with a delay. */
const MAX_START_FAILURES = 3;
const RESTART_DELAY_MS = 1000;
/** An idle worker is ended after this long; the next task starts a new one (≈ 50 ms). */
const IDLE_RETIRE_MS = 60_000;

export class ComputePool {
  private readonly opts: Required<Omit<ComputePoolOptions, 'onWorkerLost'>> & Pick<ComputePoolOptions, 'onWorkerLost'>;
  private readonly slots = new Set<Slot>();
  /**
   * Waiting tasks by fairness key (a namespace), served round-robin: a tenant that queues many
   * expensive renders delays its own, not everyone's. Map order is the rotation.
   */
  private readonly queues = new Map<string, Task[]>();
  private nextId = 1;
  private closed = false;
  private startFailures = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  /** The heap limit the last ready worker reported (MiB): what V8 really enforces. */
  workerHeapLimitMb: number | undefined;

  constructor(opts: ComputePoolOptions) {
    if (!(opts.workers >= 1)) throw new RangeError('a compute pool needs at least one worker');
    this.opts = {
      workers: Math.floor(opts.workers),
      timeoutMs: opts.timeoutMs,
      memoryLimitMb: opts.memoryLimitMb,
      stackSizeMb: opts.stackSizeMb ?? 4,
      idleRetireMs: opts.idleRetireMs ?? IDLE_RETIRE_MS,
      workerUrl: opts.workerUrl ?? defaultWorkerUrl(),
      onWorkerLost: opts.onWorkerLost,
    };
    releaseHeapFlags();
    // Workers start when there is work and end when idle: a cluster without templates pays
    // nothing for the pool (an idle worker holds about 40 MiB).
  }

  /** Workers started and not yet ended (busy, idle or starting). */
  get workerCount(): number {
    return this.slots.size;
  }

  /** Tasks waiting for a worker. */
  get queued(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  /**
   * Runs one task. Rejects with PoolBudgetError (deadline or memory), WorkerTaskError, the
   * signal's reason when aborted (a running task's worker is terminated), or an Error when the
   * pool is closed.
   */
  run(payload: unknown, opts: { signal?: AbortSignal | undefined; transfer?: ArrayBuffer[]; key?: string | undefined } = {}): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('compute pool is closed'));
    const signal = opts.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const task: Task = { id: this.nextId++, key: opts.key ?? '', payload, transfer: opts.transfer ?? [], resolve, reject, signal, onAbort: undefined };
      if (signal) {
        task.onAbort = () => this.abort(task);
        signal.addEventListener('abort', task.onAbort, { once: true });
      }
      const q = this.queues.get(task.key);
      if (q) q.push(task);
      else this.queues.set(task.key, [task]);
      this.dispatch();
    });
  }

  /** Rejects queued tasks, terminates every worker and waits for them to stop. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.restartTimer);
    for (const t of this.drainQueue()) this.settle(t, () => t.reject(new Error('compute pool is closed')));
    const stopping: Array<Promise<unknown>> = [];
    for (const slot of this.slots) {
      const t = slot.task;
      this.retire(slot);
      if (t) this.settle(t, () => t.reject(new Error('compute pool is closed')));
      stopping.push(slot.worker.terminate().catch(() => undefined));
    }
    await Promise.all(stopping);
  }

  // --- internals -------------------------------------------------------------------------------

  private spawn(): void {
    if (this.closed) return;
    const worker = new Worker(this.opts.workerUrl, {
      // Node flags of the parent (a test runner's, --max-old-space-size …) are not the worker's.
      execArgv: [],
      resourceLimits: {
        maxOldGenerationSizeMb: this.opts.memoryLimitMb,
        maxYoungGenerationSizeMb: Math.max(4, Math.min(32, Math.floor(this.opts.memoryLimitMb / 4))),
        stackSizeMb: this.opts.stackSizeMb,
      },
    });
    worker.unref(); // an idle pool never keeps the process alive
    const slot: Slot = { worker, ready: false, gone: false, task: undefined, timer: undefined, idleTimer: undefined };
    this.slots.add(slot);
    worker.on('message', (msg: FromWorker) => this.onMessage(slot, msg));
    worker.on('error', (err: Error & { code?: string }) => {
      const memory = err.code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.lose(slot, memory ? 'memory' : 'crash', memory
        ? new PoolBudgetError('memory', `memory limit ${this.opts.memoryLimitMb}Mi`)
        : new WorkerTaskError(`compute worker failed: ${err.code ?? err.name}`));
    });
    worker.on('exit', (code) => this.lose(slot, 'crash', new WorkerTaskError(`compute worker exited with code ${code}`)));
  }

  private onMessage(slot: Slot, msg: FromWorker): void {
    if (slot.gone) return;
    if (msg.type === 'ready') {
      slot.ready = true;
      this.workerHeapLimitMb = msg.heapLimitMb;
      this.startFailures = 0;
      this.dispatch();
      if (!slot.task) this.idleAfterwards(slot);
      return;
    }
    const task = slot.task;
    if (!task || task.id !== msg.id) return;
    clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.task = undefined;
    slot.worker.unref();
    if (msg.type === 'result') this.settle(task, () => task.resolve(msg.result));
    else this.settle(task, () => task.reject(new WorkerTaskError(`compute task failed: ${msg.code ?? msg.name}`)));
    this.dispatch();
    if (!slot.task) this.idleAfterwards(slot);
  }

  private idleAfterwards(slot: Slot): void {
    clearTimeout(slot.idleTimer);
    slot.idleTimer = setTimeout(() => {
      if (slot.gone || slot.task) return;
      this.retire(slot);
      void slot.worker.terminate().catch(() => undefined);
    }, this.opts.idleRetireMs);
    slot.idleTimer.unref();
  }

  /** Starts workers for queued tasks that no idle or starting worker will take. */
  private startWorkersForQueue(): void {
    if (this.closed || this.restartTimer !== undefined) return;
    let free = 0;
    for (const slot of this.slots) if (!slot.gone && !slot.task) free++;
    let missing = this.queued - free;
    while (missing > 0 && this.slots.size < this.opts.workers) {
      this.spawn();
      missing--;
    }
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queues.size === 0) return;
      if (slot.gone || !slot.ready || slot.task) continue;
      const task = this.nextTask();
      clearTimeout(slot.idleTimer);
      slot.idleTimer = undefined;
      slot.task = task;
      slot.worker.ref(); // a running task keeps the process alive until it settles
      slot.timer = setTimeout(() => {
        this.lose(slot, 'time', new PoolBudgetError('time', `time limit ${formatMs(this.opts.timeoutMs)}`));
      }, timerDelayMs(this.opts.timeoutMs));
      try {
        slot.worker.postMessage({ type: 'task', id: task.id, payload: task.payload } satisfies ToWorker, task.transfer);
      } catch (err) {
        // The payload could not be cloned: the caller's bug, the worker is fine.
        clearTimeout(slot.timer);
        slot.timer = undefined;
        slot.task = undefined;
        slot.worker.unref();
        this.settle(task, () => task.reject(err));
      }
    }
    this.startWorkersForQueue();
  }

  private abort(task: Task): void {
    const q = this.queues.get(task.key);
    const i = q ? q.indexOf(task) : -1;
    if (q && i >= 0) {
      q.splice(i, 1);
      if (q.length === 0) this.queues.delete(task.key);
      this.settle(task, () => task.reject(task.signal!.reason));
      return;
    }
    for (const slot of this.slots) {
      if (slot.task === task) this.lose(slot, undefined, task.signal!.reason);
    }
  }

  /** The slot's worker is finished: fail its task (if any), stop it, and start a replacement. */
  private lose(slot: Slot, reason: 'time' | 'memory' | 'crash' | undefined, error: unknown): void {
    if (slot.gone) return;
    const task = slot.task;
    const wasReady = slot.ready;
    this.retire(slot);
    void slot.worker.terminate().catch(() => undefined);
    if (task) this.settle(task, () => task.reject(error));
    if (reason) this.opts.onWorkerLost?.(reason);
    if (this.closed) return;
    if (!wasReady && !task) {
      // Died while starting: the module does not load, or the machine is out of memory. Do not
      // spin; fail what waits (nothing can serve it) and try again later.
      if (++this.startFailures >= MAX_START_FAILURES) {
        for (const t of this.drainQueue()) this.settle(t, () => t.reject(new WorkerTaskError('compute workers fail to start')));
        if (this.restartTimer === undefined) {
          this.restartTimer = setTimeout(() => {
            this.restartTimer = undefined;
            this.dispatch();
          }, RESTART_DELAY_MS);
          this.restartTimer.unref();
        }
        return;
      }
    }
    this.dispatch(); // a replacement starts when there is work for it
  }

  /** The first task of the key whose turn it is; that key then goes to the back of the rotation. */
  private nextTask(): Task {
    const [key, q] = this.queues.entries().next().value!;
    const task = q.shift()!;
    this.queues.delete(key);
    if (q.length > 0) this.queues.set(key, q);
    return task;
  }

  private drainQueue(): Task[] {
    const all = [...this.queues.values()].flat();
    this.queues.clear();
    return all;
  }

  private retire(slot: Slot): void {
    slot.gone = true;
    clearTimeout(slot.timer);
    clearTimeout(slot.idleTimer);
    slot.timer = undefined;
    slot.task = undefined;
    this.slots.delete(slot);
  }

  private settle(task: Task, fn: () => void): void {
    if (task.signal && task.onAbort) task.signal.removeEventListener('abort', task.onAbort);
    fn();
  }
}
