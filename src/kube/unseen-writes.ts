// Why this file: a controller reads its objects from informer caches, and each cache lags the
// controller's own writes by one watch event. The ExternalSecret and its Secret come from two
// watches, so a reconcile can see the Secret it has just created beside an ExternalSecret whose
// status does not yet say it was synced (or the reverse). The reconciler then takes the object
// for a changed one and reads every value fresh from the provider, and writes again: a second
// provider read of a key that was read a moment before, which breaks "one read per distinct
// secret", and a write that can only conflict.
//
// UnseenWrites remembers, per object, the resourceVersion the cache held when this process wrote
// it, until the informer delivers any newer event of that object. A reconcile that finds the
// cache still at that version is deferred, and the object that waited is handed back to be
// enqueued once the event arrives. Entries expire after `ttlMs`, so a lost event (a watch that
// broke and re-listed, a write the server did not apply) costs a short delay, never a stuck object.

interface Entry {
  /** resourceVersion the cache held before the write ('' when the object did not exist). */
  before: string;
  at: number;
  /** Key of the object whose reconcile waits for this write to be seen. */
  waiter?: string;
}

export interface UnseenWritesOptions {
  /** How long a write is waited for (ms); after that the cache is trusted again. */
  ttlMs?: number;
  now?: () => number;
}

export class UnseenWrites {
  readonly ttlMs: number;
  private readonly now: () => number;
  /** In write order (an entry is deleted and set again on each write), so expiry sweeps from the front. */
  private readonly entries = new Map<string, Entry>();

  constructor(opts: UnseenWritesOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 10_000;
    this.now = opts.now ?? (() => performance.now());
  }

  /**
   * This process wrote `key`: the cache held `before` ('' when absent) and the server answered
   * `after`. A write the server did not change (same resourceVersion) brings no watch event and is
   * not remembered.
   */
  wrote(key: string, before: string, after: string | undefined): void {
    this.entries.delete(key);
    if (after === undefined || after === before) return;
    this.sweep();
    this.entries.set(key, { before, at: this.now() });
  }

  /**
   * Does the cache (at `cached`, '' when absent) still hold the version from before this process's
   * last write of `key`? Then `waiter` is handed back by `seen` once the newer version arrives.
   */
  behind(key: string, cached: string, waiter: string): boolean {
    const e = this.entries.get(key);
    if (!e) return false;
    if (e.before !== cached || this.now() - e.at > this.ttlMs) {
      this.entries.delete(key);
      return false;
    }
    e.waiter = waiter;
    return true;
  }

  /** The informer delivered an event of `key` (the cache moved on): the waiter to enqueue, if any. */
  seen(key: string): string | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    this.entries.delete(key);
    return e.waiter;
  }

  /** Remembered writes (for tests). */
  get size(): number {
    return this.entries.size;
  }

  private sweep(): void {
    const oldest = this.now() - this.ttlMs;
    for (const [key, e] of this.entries) {
      if (e.at >= oldest) break;
      this.entries.delete(key);
    }
  }
}
