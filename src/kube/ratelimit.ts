// Token buckets and per-key exponential backoff, as client-go's flowcontrol and workqueue
// rate limiters.
import { timerDelayMs } from '../api/duration.ts';

/** A token bucket: `rate` tokens per second, holding at most `burst`. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly rate: number;
  private readonly burst: number;
  private readonly now: () => number;

  constructor(rate: number, burst: number, now: () => number = () => performance.now()) {
    this.rate = rate;
    this.burst = Math.max(1, burst);
    this.tokens = this.burst;
    this.now = now;
    this.last = now();
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.rate);
    this.last = t;
  }

  /** Reserves one token; returns how many ms the caller must wait before using it. */
  reserve(): number {
    if (!(this.rate > 0) || this.rate === Infinity) return 0;
    this.refill();
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.rate) * 1000;
  }

  async take(signal?: AbortSignal): Promise<void> {
    const wait = this.reserve();
    if (wait > 0) {
      await new Promise<void>((resolve) => {
        const onAbort = (): void => (clearTimeout(t), resolve());
        // The listener goes when the wait ends: a long-lived signal (shutdown) must not collect one per call.
        const t = setTimeout(() => (signal?.removeEventListener('abort', onAbort), resolve()), timerDelayMs(wait));
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
  }
}

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
