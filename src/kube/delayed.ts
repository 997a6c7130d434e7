// Why this file: every synced ExternalSecret waits for its next refresh, so a controller over
// 10,000 of them holds 10,000 delayed keys. One Node timer per key (a Timeout, its closure and
// context, the numbers it keeps, the record around it) cost about 530 bytes each, 5 MB of heap
// at 10,000; here a key costs about 115 (docs/performance.md, "Memory"). Delayed keys are kept in
// a binary heap by due time, under one timer armed for the earliest.

import { timerDelayMs } from '../api/duration.ts';

interface Entry<P> {
  key: string;
  /** Due time, on the owner's clock. */
  at: number;
  value: P;
}

export class DelayedKeys<P> {
  /** The live entry of each key; heap entries not found here were cancelled or rescheduled. */
  private readonly byKey = new Map<string, Entry<P>>();
  private heap: Array<Entry<P>> = [];
  private timer: NodeJS.Timeout | undefined;
  /** Due time the timer is armed for (Infinity when none). */
  private armedFor = Infinity;
  private readonly now: () => number;
  private readonly due: (key: string, value: P) => void;

  /** `due` is called once per key when its time comes (after it has left the set). */
  constructor(now: () => number, due: (key: string, value: P) => void) {
    this.now = now;
    this.due = due;
  }

  get size(): number {
    return this.byKey.size;
  }

  /** Due time of `key`, if it waits. */
  dueAt(key: string): number | undefined {
    return this.byKey.get(key)?.at;
  }

  /** Schedules `key` at `at`, replacing its earlier schedule if any. */
  set(key: string, at: number, value: P): void {
    const entry = { key, at, value };
    this.byKey.set(key, entry);
    this.push(entry);
    // Replaced and cancelled entries stay in the heap until they surface; rebuild before they
    // outnumber the live ones.
    if (this.heap.length > 2 * this.byKey.size + 64) this.rebuild();
    this.arm();
  }

  delete(key: string): boolean {
    return this.byKey.delete(key);
  }

  clear(): void {
    this.byKey.clear();
    this.heap = [];
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
  }

  private arm(): void {
    const top = this.heap[0];
    if (!top || top.at >= this.armedFor) return;
    clearTimeout(this.timer);
    this.armedFor = top.at;
    this.timer = setTimeout(() => this.fire(), timerDelayMs(Math.max(0, top.at - this.now())));
    this.timer.unref();
  }

  private fire(): void {
    // What the timer was armed for is due even if the owner's clock says otherwise (a clock that
    // stands still in tests, or one a little behind the timers').
    const dueBy = Math.max(this.now(), this.armedFor);
    this.timer = undefined;
    this.armedFor = Infinity;
    const ready: Array<Entry<P>> = [];
    while (this.heap.length > 0 && this.heap[0]!.at <= dueBy) {
      const e = this.pop()!;
      if (this.byKey.get(e.key) !== e) continue;
      this.byKey.delete(e.key);
      ready.push(e);
    }
    this.skipStale();
    this.arm();
    for (const e of ready) this.due(e.key, e.value);
  }

  /** Drops cancelled entries from the top, so the timer is not armed for them. */
  private skipStale(): void {
    while (this.heap.length > 0 && this.byKey.get(this.heap[0]!.key) !== this.heap[0]) this.pop();
  }

  private rebuild(): void {
    this.heap = [...this.byKey.values()];
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  private push(e: Entry<P>): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.at <= e.at) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = e;
  }

  private pop(): Entry<P> | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      this.down(0);
    }
    return top;
  }

  private down(i: number): void {
    const h = this.heap;
    const e = h[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && h[r]!.at < h[l]!.at ? r : l;
      if (h[c]!.at >= e.at) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = e;
  }
}
