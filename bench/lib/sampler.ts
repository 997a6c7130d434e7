// Samples a controller process while a benchmark runs: its provider-call counter (for one store)
// and its /proc figures, every few hundred ms, so that calls and CPU can be attributed to a phase
// (initial sync, refresh cycle, restart) and the busiest second found afterwards.
import type { Controller } from './operator.ts';
import { procStat, type ProcStat } from './proc.ts';
import { diff, parseProm, sumBy, total } from './prom.ts';

export interface ProviderWindow {
  byCall: Record<string, number>;
  total: number;
  busiestSecond: number;
}

export class Sampler {
  readonly calls: Array<{ t: number; byCall: Record<string, number> }> = [];
  readonly proc: Array<{ t: number } & ProcStat> = [];
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private readonly ctl: Controller;
  private readonly store: string;
  private readonly sampleMs: number;
  /** `store` as the metric labels it, e.g. "ClusterSecretStore/bench-abc": other stores are not counted. */
  constructor(ctl: Controller, store: string, sampleMs: number) {
    this.ctl = ctl;
    this.store = store;
    this.sampleMs = sampleMs;
  }
  start(): void {
    this.timer = setInterval(() => void this.sample(), this.sampleMs);
  }
  async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const t = Date.now();
      const p = procStat(this.ctl.pid);
      if (p) this.proc.push({ t, ...p });
      const text = await this.ctl.metrics(['externalsecret_provider_api_calls_count']);
      this.calls.push({ t, byCall: sumBy(parseProm(text), 'externalsecret_provider_api_calls_count', ['call'], (l) => l.store === this.store) });
    } catch {
      /* the process may be stopping */
    } finally {
      this.busy = false;
    }
  }
  stop(): void {
    clearInterval(this.timer);
  }
  /** Provider calls by operation between two instants, and the busiest 1 s window. */
  window(from: number, to: number): ProviderWindow {
    const s = this.calls.filter((c) => c.t >= from && c.t <= to);
    const before = [...this.calls].reverse().find((c) => c.t < from)?.byCall ?? {};
    const last = s[s.length - 1]?.byCall ?? before;
    let busiest = 0;
    const all = [{ t: from, byCall: before }, ...s];
    for (let j = 0, i = 0; j < all.length; j++) {
      while (all[j]!.t - all[i]!.t > 1000) i++;
      // Compare with the last sample at or before the window's start (covers ≥ 1 s).
      const base = i > 0 ? all[i - 1]! : all[0]!;
      busiest = Math.max(busiest, total(all[j]!.byCall) - total(base.byCall));
    }
    const byCall = diff(last, before);
    return { byCall, total: total(byCall), busiestSecond: busiest };
  }
  procAt(from: number, to: number): { peakRssMb: number; cpuSeconds: number } {
    const s = this.proc.filter((p) => p.t >= from && p.t <= to);
    const before = [...this.proc].reverse().find((p) => p.t < from) ?? s[0];
    const last = s[s.length - 1] ?? before;
    return { peakRssMb: Math.round(Math.max(0, ...s.map((p) => p.hwmMb))), cpuSeconds: Math.round(((last?.cpuSeconds ?? 0) - (before?.cpuSeconds ?? 0)) * 100) / 100 };
  }
}
