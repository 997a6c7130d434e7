// Per-key exponential backoff, as client-go's workqueue rate limiters. The token bucket is shared
// with the provider reader and lives in src/token-bucket.ts.


/** Per-key exponential backoff: base * 2^failures, capped; forget() resets a key. */
export class ExponentialBackoff {
  private readonly failures = new Map<string, number>();
  readonly baseMs: number;
  readonly maxMs: number;

  constructor(baseMs: number, maxMs: number) {
    this.baseMs = baseMs;
    this.maxMs = maxMs;
  }

  when(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    // 2^n overflows to Infinity long before it matters; cap first.
    return Math.min(this.maxMs, this.baseMs * 2 ** Math.min(n, 62));
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }
}
