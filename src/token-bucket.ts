// A token bucket, as client-go's flowcontrol: the kube client's QPS limit, event aggregation and
// each provider's request rate all use it. It sits outside kube/ and providers/ because both need
// it and neither may import the other (docs/architecture.md).
import { timerDelayMs } from './api/duration.ts';

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

  /**
   * Takes one token if one is there, as client-go's TryAccept: a refusal costs nothing, so a
   * caller that is refused again and again (a hot loop) gets a token as soon as one refills.
   */
  tryTake(): boolean {
    if (!(this.rate > 0) || this.rate === Infinity) return true;
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
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
