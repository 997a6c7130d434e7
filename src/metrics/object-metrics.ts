// Why this file: ESO's per-object metric families (`<kind>_status_condition`,
// `<kind>_reconcile_duration`, `externalsecret_sync_calls_total`) have series for every object.
// prom-client keeps each series as an object, a labels object and a key string, about 300 bytes:
// some 12 MB of heap at 10,000 ExternalSecrets. A scrape formats every series through arrays and
// joins, and the whole page is one string: about 50 MB of short-lived heap at 10,000, all of it
// during one scrape (docs/performance.md, "Memory").
//
// These families keep one number (or one status) per object in a Map, and write their text in
// chunks (`writeText`) without building per-series objects. They register in prom-client's
// registry like any metric, and `get()` answers as prom-client's metrics do, so register.metrics(),
// `?name=` scrapes and tests see the same series with the same names and labels.
import { register, type MetricValue } from 'prom-client';
import type { TextWriter } from './registry.ts';

/** The object a series belongs to: its name, and its namespace (empty for a cluster-scoped kind). */
export interface ObjectSeries {
  name: string;
  namespace: string;
}

const key = (s: ObjectSeries) => `${s.namespace}\u0000${s.name}`;
const fromKey = (k: string): ObjectSeries => {
  const i = k.indexOf('\u0000');
  return { namespace: k.slice(0, i), name: k.slice(i + 1) };
};

/** Prometheus text format: a label value with backslash, newline and double quote escaped (as prom-client). */
export function escapeLabelValue(v: string): string {
  return /[\\\n"]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"') : v;
}

/** A sample value as prom-client writes it. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'Nan';
  if (!Number.isFinite(v)) return v < 0 ? '-Inf' : '+Inf';
  return `${v}`;
}

/** Writes text in chunks of about this many characters. */
const CHUNK = 64 * 1024;

/**
 * The objects of one kind, each with one slot per family of that kind. The families of a kind
 * share it, so an object costs one Map entry and one key string however many families have a
 * series of it (four for an ExternalSecret: 2.0 MB at 10,000 instead of 3.0 with a Map per family).
 */
export class ObjectTable {
  private readonly rows = new Map<string, unknown[]>();
  private columns = 0;

  /** A slot for one more family. */
  addColumn(): number {
    return this.columns++;
  }

  /** Objects with a value in any slot. */
  get size(): number {
    return this.rows.size;
  }

  get(k: string, slot: number): unknown {
    return this.rows.get(k)?.[slot];
  }

  set(k: string, slot: number, value: unknown): void {
    let row = this.rows.get(k);
    if (!row) this.rows.set(k, (row = new Array<unknown>(this.columns).fill(undefined)));
    row[slot] = value;
  }

  /** Empties the slot; the object goes when none of its slots holds a value. */
  delete(k: string, slot: number): void {
    const row = this.rows.get(k);
    if (!row || row[slot] === undefined) return;
    row[slot] = undefined;
    if (row.every((v) => v === undefined)) this.rows.delete(k);
  }

  clearColumn(slot: number): void {
    for (const k of [...this.rows.keys()]) this.delete(k, slot);
  }

  /** The objects with a value in the slot, in the table's order: at most as many as it held when called. */
  *entries(slot: number): Generator<[string, unknown]> {
    // One removed and set again while a scrape writes its chunks moves to the end of the Map,
    // and would otherwise be visited twice.
    let left = this.rows.size;
    for (const [k, row] of this.rows) {
      if (left-- <= 0) return;
      if (row[slot] !== undefined) yield [k, row[slot]];
    }
  }

  countColumn(slot: number): number {
    let n = 0;
    for (const row of this.rows.values()) if (row[slot] !== undefined) n++;
    return n;
  }
}

abstract class ObjectFamily<V> implements TextWriter {
  readonly name: string;
  readonly help: string;
  abstract readonly type: 'gauge' | 'counter';
  readonly aggregator = 'sum' as const;
  private readonly table: ObjectTable;
  private readonly slot: number;

  /** `table`: shared with the other families of the same kind; by default one of its own. */
  constructor(name: string, help: string, table = new ObjectTable()) {
    this.name = name;
    this.help = help;
    this.table = table;
    this.slot = table.addColumn();
  }

  protected getValue(k: string): V | undefined {
    return this.table.get(k, this.slot) as V | undefined;
  }

  protected setValue(k: string, v: V): void {
    this.table.set(k, this.slot, v);
  }

  protected values(): Generator<[string, V]> {
    return this.table.entries(this.slot) as Generator<[string, V]>;
  }

  /** Drops the object's series (it is gone). */
  remove(series: ObjectSeries): void {
    this.table.delete(key(series), this.slot);
  }

  reset(): void {
    this.table.clearColumn(this.slot);
  }

  /** Series held (objects, not lines). */
  get size(): number {
    return this.table.countColumn(this.slot);
  }

  protected abstract lines(series: string, value: V, out: string[]): void;

  /** The family as prom-client's metrics answer get(): every series with its labels. */
  async get(): Promise<{ name: string; help: string; type: 'gauge' | 'counter'; aggregator: 'sum'; values: Array<MetricValue<string>> }> {
    const values: Array<MetricValue<string>> = [];
    for (const [k, v] of this.values()) {
      const s = fromKey(k);
      for (const [labels, value] of this.samples(s, v)) values.push({ labels: { name: s.name, namespace: s.namespace, ...labels }, value });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  protected abstract samples(s: ObjectSeries, v: V): Array<[Record<string, string>, number]>;

  /** The family's exposition text, in chunks of about 64 Ki characters (no trailing newline). */
  *textChunks(): Generator<string> {
    let parts: string[] = [`# HELP ${this.name} ${this.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${this.name} ${this.type}`];
    let size = parts[0]!.length;
    for (const [k, v] of this.values()) {
      const s = fromKey(k);
      const before = parts.length;
      this.lines(`name="${escapeLabelValue(s.name)}",namespace="${escapeLabelValue(s.namespace)}"`, v, parts);
      for (let i = before; i < parts.length; i++) size += parts[i]!.length + 1;
      if (size >= CHUNK) {
        yield parts.join('\n');
        // The next chunk starts with the line break before its first line.
        parts = [''];
        size = 0;
      }
    }
    if (parts.length > 1 || parts[0] !== '') yield parts.join('\n');
  }
}

/** One value per object, labels name and namespace: ESO's `*_reconcile_duration` gauges and `externalsecret_sync_calls_total`. */
export class ObjectValues extends ObjectFamily<number> {
  readonly type: 'gauge' | 'counter';

  constructor(name: string, help: string, type: 'gauge' | 'counter', table?: ObjectTable) {
    super(name, help, table);
    this.type = type;
    register.registerMetric(this as never);
  }

  set(series: ObjectSeries, value: number): void {
    this.setValue(key(series), value);
  }

  inc(series: ObjectSeries, by = 1): void {
    const k = key(series);
    this.setValue(k, (this.getValue(k) ?? 0) + by);
  }

  /** The object's value, if it has a series. */
  value(series: ObjectSeries): number | undefined {
    return this.getValue(key(series));
  }

  protected lines(labels: string, v: number, out: string[]): void {
    out.push(`${this.name}{${labels}} ${formatValue(v)}`);
  }

  protected samples(_s: ObjectSeries, v: number): Array<[Record<string, string>, number]> {
    return [[{}, v]];
  }
}

/**
 * ESO's `*_status_condition{name,namespace,condition,status}` for the Ready condition: both
 * series of an object (status True and False), 1 on the current status and 0 on the other.
 */
export class ReadyCondition extends ObjectFamily<string> {
  readonly type = 'gauge' as const;

  constructor(name: string, help: string, table?: ObjectTable) {
    super(name, help, table);
    register.registerMetric(this as never);
  }

  /** Ready is `status` (True, False, or another status, which sets both series to 0). */
  set(series: ObjectSeries, status: string): void {
    this.setValue(key(series), status);
  }

  /** The object's current Ready status, if it has series. */
  statusOf(series: ObjectSeries): string | undefined {
    return this.getValue(key(series));
  }

  protected lines(labels: string, status: string, out: string[]): void {
    out.push(`${this.name}{${labels},condition="Ready",status="True"} ${status === 'True' ? 1 : 0}`);
    out.push(`${this.name}{${labels},condition="Ready",status="False"} ${status === 'False' ? 1 : 0}`);
  }

  protected samples(_s: ObjectSeries, status: string): Array<[Record<string, string>, number]> {
    return [
      [{ condition: 'Ready', status: 'True' }, status === 'True' ? 1 : 0],
      [{ condition: 'Ready', status: 'False' }, status === 'False' ? 1 : 0],
    ];
  }
}

/**
 * A counter per object and per value of one more label: `externalsecret_sync_calls_error{name,
 * namespace,reason}`. The object's series go together when it is removed, whatever their reasons.
 */
export class ObjectCounts extends ObjectFamily<Map<string, number>> {
  readonly type = 'counter' as const;
  readonly label: string;

  constructor(name: string, help: string, label: string, table?: ObjectTable) {
    super(name, help, table);
    this.label = label;
    register.registerMetric(this as never);
  }

  inc(series: ObjectSeries, labelValue: string, by = 1): void {
    const k = key(series);
    let counts = this.getValue(k);
    if (!counts) this.setValue(k, (counts = new Map()));
    counts.set(labelValue, (counts.get(labelValue) ?? 0) + by);
  }

  /** The object's count under `labelValue`, if it has that series. */
  value(series: ObjectSeries, labelValue: string): number | undefined {
    return this.getValue(key(series))?.get(labelValue);
  }

  protected lines(labels: string, counts: Map<string, number>, out: string[]): void {
    for (const [v, n] of counts) out.push(`${this.name}{${labels},${this.label}="${escapeLabelValue(v)}"} ${formatValue(n)}`);
  }

  protected samples(_s: ObjectSeries, counts: Map<string, number>): Array<[Record<string, string>, number]> {
    return [...counts].map(([v, n]) => [{ [this.label]: v }, n]);
  }
}

/** Get-or-create, as the helpers of registry.ts: a module may be loaded twice (tests, tools). */
export function objectValues(name: string, help: string, type: 'gauge' | 'counter', table?: ObjectTable): ObjectValues {
  const found = register.getSingleMetric(name);
  return found instanceof ObjectValues ? found : new ObjectValues(name, help, type, table);
}

export function objectCounts(name: string, help: string, label: string, table?: ObjectTable): ObjectCounts {
  const found = register.getSingleMetric(name);
  return found instanceof ObjectCounts ? found : new ObjectCounts(name, help, label, table);
}

export function readyCondition(name: string, help: string, table?: ObjectTable): ReadyCondition {
  const found = register.getSingleMetric(name);
  return found instanceof ReadyCondition ? found : new ReadyCondition(name, help, table);
}
