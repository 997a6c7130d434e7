// Why this file: `AbortSignal.any([parent, AbortSignal.timeout(ms)])` keeps its timer, the timeout
// signal and a weak registration on the parent alive until the deadline passes, however early the
// work ended. With one reconcile deadline per ExternalSecret, an initial sync of 10,000 left about
// 10,800 signals, timers and weak cells alive, some 10 MB of heap (docs/performance.md, "Memory").
// A deadline released when its work ends is garbage at once.

/** A signal that aborts when its parent does or when `ms` pass, whichever comes first. */
export interface Deadline {
  readonly signal: AbortSignal;
  /** True once the time ran out (not when the parent aborted). */
  readonly expired: boolean;
  /** Stops the timer and forgets the parent; call it when the work ends. */
  release(): void;
}

/** Starts a deadline of `ms` under `parent`. Its timer does not keep the process alive. */
export function startDeadline(parent: AbortSignal | undefined, ms: number): Deadline {
  const controller = new AbortController();
  let expired = false;
  const onParentAbort = () => controller.abort(parent!.reason);
  const timer = setTimeout(() => {
    expired = true;
    // The reason AbortSignal.timeout gives, which callers recognise by its name.
    controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
  }, ms);
  timer.unref();
  if (parent?.aborted) controller.abort(parent.reason);
  else parent?.addEventListener('abort', onParentAbort, { once: true });
  return {
    signal: controller.signal,
    get expired() {
      return expired;
    },
    release() {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParentAbort);
    },
  };
}

/** Runs `fn` under a deadline of `ms` below `parent`, and releases the deadline when it ends. */
export async function withDeadline<T>(parent: AbortSignal | undefined, ms: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const deadline = startDeadline(parent, ms);
  try {
    return await fn(deadline.signal);
  } finally {
    deadline.release();
  }
}

/**
 * Waits for `p` to settle (resolved or rejected), but no longer than `ms`: true when it settled
 * in time. The timer keeps the process alive while it waits (a shutdown waiting on it is not cut
 * short), and is cleared as soon as `p` settles.
 */
export async function settledWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
