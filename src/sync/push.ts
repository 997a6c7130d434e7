// The pure core of a PushSecret: which values go to which remote keys of one store (spec.data and
// spec.dataTo over the source Secret's data), and which remote keys pushed before are no longer
// pushed (deletionPolicy Delete). No I/O: the controller reads the source Secret and the stores,
// and hands the result to the providers. Follows ESO 2.9's pkg/controllers/pushsecret.
import type { PushSecretData, PushSecretDataTo } from '../api/types.generated.ts';
import { compile, matchString, RegexpError } from '../go/regexp.ts';
import { compareGoStrings } from '../go/sort.ts';
import { goJsonMarshal } from '../go/json.ts';
import { syncErrors } from './errors.ts';
import { rewriteKeys, type RenderKeyTemplate } from './rewrite.ts';

/** One value to push to one store. */
export interface PushEntry {
  /** The entry as status.syncedPushSecrets records it (ESO's PushSecretData). */
  data: PushSecretData;
  /** The bytes to write: the key's value, or the whole (or bundled) Secret as JSON. */
  value: Uint8Array;
  /** Set for a whole-Secret or bundle push: the data the JSON was made of. */
  wholeSecret?: Map<string, Uint8Array> | undefined;
}

/** status.syncedPushSecrets: store ("Kind/name") → statusRef → the entry pushed. */
export type SyncedPushSecrets = Record<string, Record<string, PushSecretData>>;

/** ESO's key of an entry in status.syncedPushSecrets: remoteKey, or remoteKey/property. */
export function statusRef(d: PushSecretData): string {
  const { remoteKey, property } = d.match.remoteRef;
  return property ? `${remoteKey}/${property}` : remoteKey;
}

/** ESO's key of a store in status.syncedPushSecrets. */
export function storeStatusKey(kind: string, name: string): string {
  return `${kind}/${name}`;
}

/** Parses a storeStatusKey back, or undefined when it is not one (a hand-edited status). */
export function parseStoreStatusKey(key: string): { kind: 'SecretStore' | 'ClusterSecretStore'; name: string } | undefined {
  const i = key.indexOf('/');
  const kind = key.slice(0, i);
  const name = key.slice(i + 1);
  if (i < 0 || name === '' || name.includes('/') || (kind !== 'SecretStore' && kind !== 'ClusterSecretStore')) return undefined;
  return { kind, name };
}

const UNICODE_ESCAPE = /_U([0-9a-fA-F]{4,5})_/g;

/** conversionStrategy ReverseUnicode: "_U0040_" back to "@", as ESO's esutils.ReverseKey. */
export function reverseKey(strategy: string | undefined, key: string): string {
  if (strategy !== 'ReverseUnicode') return key;
  return key.replace(UNICODE_ESCAPE, (all, hex: string) => {
    const cp = Number.parseInt(hex, 16);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : all;
  });
}

/** The Secret's data with its keys converted; a collision is refused as ESO does. */
export function reverseKeys(strategy: string | undefined, data: ReadonlyMap<string, Uint8Array>, field: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const [k, v] of data) {
    const key = reverseKey(strategy, k);
    if (out.has(key)) throw syncErrors.invalidPush(field, `secret name collision during conversion: ${JSON.stringify(key)}`);
    out.set(key, v);
  }
  return out;
}

const dec = new TextDecoder();

/** A Secret's data as ESO pushes it whole: Go's JSON of the string values, HTML not escaped. */
export function secretJson(data: ReadonlyMap<string, Uint8Array>): Uint8Array {
  const obj: Record<string, string> = {};
  for (const [k, v] of data) obj[k] = dec.decode(v);
  return new TextEncoder().encode(goJsonMarshal(obj, { escapeHTML: false }));
}

/**
 * One dataTo entry expanded over the source data: per key (no remoteKey: each matched key to its
 * own remote secret, after rewrite) or one bundle (remoteKey: the matched keys as one JSON).
 * `dataTo` has already been filtered to the entries that target this store.
 */
function expandDataTo(dataTo: PushSecretDataTo, index: number, source: ReadonlyMap<string, Uint8Array>, renderKeyTemplate: RenderKeyTemplate | undefined): PushEntry[] {
  const field = `spec.dataTo[${index}]`;
  if (dataTo.remoteKey && (dataTo.rewrite ?? []).length > 0) {
    throw syncErrors.invalidPush(field, 'remoteKey and rewrite are mutually exclusive: rewrite is only supported in per-key mode (without remoteKey)');
  }
  // converted key → original key, so entries name the Secret's own key (explicit data wins by it).
  const converted = new Map<string, string>();
  for (const k of source.keys()) {
    const c = reverseKey(dataTo.conversionStrategy, k);
    if (converted.has(c)) throw syncErrors.invalidPush(field, `secret name collision during conversion: ${JSON.stringify(c)}`);
    converted.set(c, k);
  }
  let keys = [...converted.keys()].sort(compareGoStrings);
  if (dataTo.match?.regexp) {
    let re;
    try {
      re = compile(dataTo.match.regexp);
    } catch (err) {
      if (err instanceof RegexpError) throw syncErrors.invalidPush(`${field}.match.regexp`, err.message);
      throw err;
    }
    keys = keys.filter((k) => matchString(re, k));
  }
  if (keys.length === 0) return [];
  const metadata = dataTo.metadata !== undefined ? { metadata: dataTo.metadata } : {};
  if (dataTo.remoteKey) {
    const bundle = new Map(keys.map((k) => [k, source.get(converted.get(k)!)!]));
    return [{
      data: { match: { secretKey: '', remoteRef: { remoteKey: dataTo.remoteKey } }, ...metadata, conversionStrategy: 'None' },
      value: secretJson(bundle),
      wholeSecret: bundle,
    }];
  }
  // Rewrite the keys; each value carries its converted key, to map results back.
  const enc = new TextEncoder();
  const rewritten = rewriteKeys(dataTo.rewrite ?? [], new Map(keys.map((k) => [k, enc.encode(k)])), field, renderKeyTemplate);
  if (rewritten.size !== keys.length) throw syncErrors.invalidPush(`${field}.rewrite`, 'two source keys are rewritten to the same remote key');
  const entries: PushEntry[] = [];
  for (const remoteKey of [...rewritten.keys()].sort(compareGoStrings)) {
    if (remoteKey === '') throw syncErrors.invalidPush(`${field}.rewrite`, 'a rewrite produced an empty remote key');
    const original = converted.get(dec.decode(rewritten.get(remoteKey)!))!;
    entries.push({
      data: { match: { secretKey: original, remoteRef: { remoteKey } }, ...metadata, conversionStrategy: 'None' },
      value: source.get(original)!,
    });
  }
  return entries;
}

/**
 * Every value to push to one store: spec.dataTo entries for this store (in order; a source key
 * also named by spec.data is left to spec.data), then spec.data. Two entries writing the same
 * remote key and property are refused, as ESO does. With neither data nor dataTo nothing is pushed.
 */
export function pushEntries(
  data: readonly PushSecretData[],
  dataToForStore: ReadonlyArray<{ entry: PushSecretDataTo; index: number }>,
  source: ReadonlyMap<string, Uint8Array>,
  renderKeyTemplate: RenderKeyTemplate | undefined,
): PushEntry[] {
  const explicit: PushEntry[] = data.map((d, i) => {
    const field = `spec.data[${i}]`;
    const converted = reverseKeys(d.conversionStrategy, source, field);
    const key = d.match.secretKey ?? '';
    if (key === '') return { data: d, value: secretJson(converted), wholeSecret: converted };
    const value = converted.get(key);
    if (value === undefined) throw syncErrors.invalidPush(`${field}.match.secretKey`, `secret key ${JSON.stringify(key)} does not exist`);
    return { data: d, value };
  });
  // Explicit entries win over dataTo for the same source key (compared on the Secret's own key).
  const explicitSourceKeys = new Set(data.map((d) => originalKey(d, source)));
  const expanded: PushEntry[] = [];
  for (const { entry, index } of dataToForStore) {
    for (const e of expandDataTo(entry, index, source, renderKeyTemplate)) {
      if (e.data.match.secretKey && explicitSourceKeys.has(e.data.match.secretKey)) continue;
      expanded.push(e);
    }
  }
  const all = [...expanded, ...explicit];
  const seen = new Map<string, string>();
  for (const e of all) {
    const at = `${e.data.match.remoteRef.remoteKey}\u0000${e.data.match.remoteRef.property ?? ''}`;
    const from = e.data.match.secretKey ?? '';
    const before = seen.get(at);
    if (before !== undefined) {
      const prop = e.data.match.remoteRef.property;
      throw syncErrors.invalidPush('spec.data', `duplicate remote key ${JSON.stringify(e.data.match.remoteRef.remoteKey)}${prop ? ` with property ${JSON.stringify(prop)}` : ''}: source keys ${JSON.stringify(before)} and ${JSON.stringify(from)} both map to the same destination`);
    }
    seen.set(at, from);
  }
  return all;
}

/** The Secret's own key of an explicit entry (its secretKey may be written converted). */
function originalKey(d: PushSecretData, source: ReadonlyMap<string, Uint8Array>): string {
  const key = d.match.secretKey ?? '';
  if (!d.conversionStrategy || d.conversionStrategy === 'None') return key;
  for (const k of source.keys()) if (reverseKey(d.conversionStrategy, k) === key) return k;
  return key;
}

/**
 * What deletionPolicy Delete removes: entries of the previous status that the new push no longer
 * writes (a store no longer pushed to loses all of them). With `next` empty (the PushSecret is
 * being deleted, or its source Secret is gone) everything pushed before.
 */
export function staleEntries(previous: SyncedPushSecrets | undefined, next: SyncedPushSecrets): Array<{ store: string; ref: string; data: PushSecretData }> {
  const out: Array<{ store: string; ref: string; data: PushSecretData }> = [];
  for (const store of Object.keys(previous ?? {}).sort(compareGoStrings)) {
    const old = previous![store]!;
    const kept = next[store] ?? {};
    for (const ref of Object.keys(old).sort(compareGoStrings)) if (!Object.hasOwn(kept, ref)) out.push({ store, ref, data: old[ref]! });
  }
  return out;
}

/** Adds `extra` to `base` (a failed push keeps the record of what it had pushed, as ESO's mergeSecretState). */
export function mergeSynced(base: SyncedPushSecrets, extra: SyncedPushSecrets | undefined): SyncedPushSecrets {
  const out: SyncedPushSecrets = {};
  for (const [store, refs] of Object.entries(extra ?? {})) out[store] = { ...refs };
  for (const [store, refs] of Object.entries(base)) out[store] = { ...(out[store] ?? {}), ...refs };
  return out;
}
