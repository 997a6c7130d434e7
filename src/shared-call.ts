// One call that several callers wait for (a coalesced provider read, a shared login, a discovery
// read). Each caller
// brings its own AbortSignal (its reconcile's deadline, shutdown), and one caller giving up must
// not fail the others: a caller whose signal aborts stops waiting at once, rejected with its own
// abort reason, while the call goes on for the rest. The call itself is aborted only when every
// caller has gone (nobody wants the answer any more, so its socket is freed), or by its own
// deadline inside the transport (--provider-timeout).

/** The reason a signal aborted, as an Error (a TimeoutError for AbortSignal.timeout). */
export function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  return r instanceof Error ? r : new DOMException(typeof r === 'string' ? r : 'the operation was aborted', 'AbortError');
}

/** True for the error of a cancelled call: an AbortError, or the TimeoutError of a deadline signal. */
export function isAbortError(err: unknown): boolean {
  const name = (err as { name?: unknown } | null | undefined)?.name;
  return name === 'AbortError' || name === 'TimeoutError';
}

export class SharedCall<T> {
  readonly promise: Promise<T>;
  private readonly controller = new AbortController();
  private waiters = 0;
  private done = false;
  private readonly abandonListeners = new Set<() => void>();

  /** Starts `run` at once, with the call's own signal (aborted when every waiter has gone). */
  constructor(run: (signal: AbortSignal) => Promise<T>) {
    this.promise = (async () => run(this.controller.signal))();
    const settle = (): void => {
      this.done = true;
      this.abandonListeners.clear();
    };
    // Handled here, so a call nobody waits for any more never becomes an unhandled rejection.
    this.promise.then(settle, settle);
  }

  /** The call's own signal: aborted once abandoned. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Some caller still waits for the answer. */
  get wanted(): boolean {
    return this.waiters > 0 && !this.controller.signal.aborted;
  }

  get abandoned(): boolean {
    return this.controller.signal.aborted;
  }

  /** Called once when the last waiter leaves before the call settled. Returns an unsubscribe. */
  onAbandon(listener: () => void): () => void {
    this.abandonListeners.add(listener);
    return () => this.abandonListeners.delete(listener);
  }

  /**
   * Waits for the answer. A waiter without a signal stays until the call settles (it keeps the
   * call alive); one with a signal leaves when it aborts.
   */
  join(signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    this.waiters++;
    if (!signal) return this.promise;
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        this.leave();
        reject(abortReason(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.promise.then(
        (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
        (e: unknown) => (signal.removeEventListener('abort', onAbort), reject(e)),
      );
    });
  }

  /** Aborts the call now, whoever waits (e.g. its item was dropped before it was sent). */
  abandon(): void {
    if (this.done || this.controller.signal.aborted) return;
    this.controller.abort(new DOMException('every caller waiting for this call has gone', 'AbortError'));
    const listeners = [...this.abandonListeners];
    this.abandonListeners.clear();
    for (const f of listeners) f();
  }

  private leave(): void {
    this.waiters--;
    if (this.waiters === 0) this.abandon();
  }
}
