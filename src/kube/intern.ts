// Why this file: the informer caches hold tens of thousands of objects that repeat the same short
// strings. Every ExternalSecret carries "external-secrets.io/v1", "ExternalSecret", its namespace,
// its store's kind and name and its condition's reason and message; every managed Secret names
// its owner's apiVersion and kind. JSON.parse makes a new copy of each value, so at 10,000
// ExternalSecrets some 5 MB of heap were copies of a few hundred distinct strings
// (docs/performance.md, "Memory"). Cached objects share one copy of these fields' values instead.
import type { KubeObject } from './types.ts';

/** Distinct strings kept; when full, new ones are cached as they are (the table stops growing). */
const MAX_STRINGS = 4096;
/** Values seen once, waiting for a second sighting; cleared when full. */
const MAX_CANDIDATES = 4096;
/** Longer values are rarely repeated (hashes, certificates) and are never kept. */
const MAX_LENGTH = 128;

const table = new Map<string, string>();
const seenOnce = new Map<string, string>();

/**
 * The shared copy of `s`. A value enters the table at its second sighting, so values that never
 * repeat (an owner's hash label, a one-off error message) do not fill it; a value that repeats
 * across many objects is seen again long before the candidates are cleared.
 */
export function intern<S extends string | undefined>(s: S): S {
  if (typeof s !== 'string' || s.length > MAX_LENGTH) return s;
  const kept = table.get(s);
  if (kept !== undefined) return kept as S;
  const first = seenOnce.get(s);
  if (first === undefined) {
    if (seenOnce.size >= MAX_CANDIDATES) seenOnce.clear();
    seenOnce.set(s, s);
    return s;
  }
  seenOnce.delete(s);
  if (table.size < MAX_STRINGS) table.set(first, first);
  return first as S;
}

/** Timestamps kept for sharing: the recent ones, since objects written together share them. */
const MAX_RECENT_TIMESTAMPS = 256;
const timestamps = new Map<string, string>();

/**
 * The shared copy of a timestamp (creationTimestamp, refreshTime, lastTransitionTime). Objects
 * created or synced in one burst carry the same few seconds: at 10,000 ExternalSecrets about 1.5
 * MB were copies of a few hundred values. Timestamps never repeat once their second has passed,
 * so they have a small table of their own, emptied when full, and never fill the one above.
 */
export function internTimestamp<S extends string | undefined>(s: S): S {
  if (typeof s !== 'string' || s.length > 40) return s;
  const kept = timestamps.get(s);
  if (kept !== undefined) return kept as S;
  if (timestamps.size >= MAX_RECENT_TIMESTAMPS) timestamps.clear();
  timestamps.set(s, s);
  return s;
}

/** The number of distinct strings kept (for tests). */
export function internedCount(): number {
  return table.size;
}

type Loose = Record<string, unknown>;
const isRecord = (v: unknown): v is Loose => typeof v === 'object' && v !== null && !Array.isArray(v);

function internKeys(o: unknown, keys: readonly string[]): void {
  if (!isRecord(o)) return;
  for (const k of keys) if (typeof o[k] === 'string') o[k] = intern(o[k]);
}

function internEach(list: unknown, keys: readonly string[], times: readonly string[] = []): void {
  if (!Array.isArray(list)) return;
  for (const item of list) {
    internKeys(item, keys);
    internTimes(item, times);
  }
}

function internTimes(o: unknown, keys: readonly string[]): void {
  if (!isRecord(o)) return;
  for (const k of keys) if (typeof o[k] === 'string') o[k] = internTimestamp(o[k]);
}

/**
 * Replaces, in place, the values of the fields that repeat across cached objects by their shared
 * copies: apiVersion, kind and type; the namespace; label values; owner references' apiVersion and
 * kind; a store reference's kind and name; status conditions' type, status, reason and message;
 * and the timestamps creationTimestamp, status.refreshTime and conditions' lastTransitionTime.
 */
export function internCommonStrings<T extends KubeObject>(obj: T): T {
  internKeys(obj, ['apiVersion', 'kind', 'type']);
  const meta = obj.metadata as Loose | undefined;
  internKeys(meta, ['namespace']);
  internTimes(meta, ['creationTimestamp']);
  if (meta && isRecord(meta['labels'])) internKeys(meta['labels'], Object.keys(meta['labels']));
  internEach(meta?.['ownerReferences'], ['apiVersion', 'kind']);
  const spec = (obj as Loose)['spec'];
  if (isRecord(spec)) internKeys(spec['secretStoreRef'], ['kind', 'name']);
  const status = (obj as Loose)['status'];
  if (isRecord(status)) {
    internEach(status['conditions'], ['type', 'status', 'reason', 'message'], ['lastTransitionTime']);
    internTimes(status, ['refreshTime']);
  }
  return obj;
}
