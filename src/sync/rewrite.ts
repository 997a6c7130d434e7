// dataFrom[].rewrite: applied in order (first to last) to the keys found by extract/find/generator.
import type { ExternalSecretRewrite, ExternalSecretRewriteMerge } from '../api/types.generated.ts';
import { BudgetExceededError } from '../template/budget.ts';
import { syncErrors } from './errors.ts';
import { compile, RegexpError, replaceAllString, type GoRegexp } from '../go/regexp.ts';
import { formatFloatF, jsonDepth, MAX_JSON_DEPTH } from './json-raw.ts';

/**
 * Longest key a rewrite may produce (or the input key's own length, when longer). A Secret key is at most 253 characters; the room above that
 * lets a chain of rewrites lengthen a key before a later one shortens it, while a tenant's target
 * repeated at every empty match (`source: ""`) cannot build strings of hundreds of megabytes.
 */
export const MAX_REWRITTEN_KEY = 4096;

/** Renders a rewrite.transform template for one key (`.value` is the key). Throws on template errors. */
export type RenderKeyTemplate = (template: string, key: string) => string;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function rewriteKeys(
  rewrites: readonly ExternalSecretRewrite[],
  input: Map<string, Uint8Array>,
  field: string,
  renderKeyTemplate: RenderKeyTemplate | undefined,
): Map<string, Uint8Array> {
  let current = input;
  rewrites.forEach((op, i) => {
    const at = `${field}.rewrite[${i}]`;
    if (op.regexp) {
      const { source, target } = op.regexp;
      const next = new Map<string, Uint8Array>();
      try {
        const re: GoRegexp = compile(source);
        for (const [key, value] of current) next.set(replaceAllString(re, key, target, Math.max(MAX_REWRITTEN_KEY, key.length)), value);
      } catch (err) {
        // A syntax error, or a pattern too costly for a key (the message names sizes, not the key).
        if (!(err instanceof RegexpError)) throw err;
        throw syncErrors.invalidRegexp(`${at}.regexp.source`, err.message);
      }
      current = next;
    } else if (op.transform) {
      if (!renderKeyTemplate) throw syncErrors.templateUnavailable(`${at}.transform.template`);
      const next = new Map<string, Uint8Array>();
      for (const [key, value] of current) {
        let newKey: string;
        try {
          newKey = renderKeyTemplate(op.transform.template, key);
        } catch (err) {
          if (err instanceof BudgetExceededError) throw syncErrors.computeBudgetExceeded(`${at}.transform.template`, err.message);
          throw syncErrors.templateFailed(`${at}.transform.template`, err instanceof Error ? err.message : String(err));
        }
        next.set(newKey, value);
      }
      current = next;
    } else if (op.merge) {
      current = rewriteMerge(op.merge, current, `${at}.merge`);
    }
  });
  return current;
}

// --- merge -----------------------------------------------------------------------------------

/** Go encoding/json Marshal of decoded JSON (float64 numbers, sorted map keys). */
export function goJsonMarshal(value: unknown, escapeHTML: boolean): string {
  const sorted = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sorted);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(v).sort(byUtf8)) out[key] = sorted((v as Record<string, unknown>)[key]);
      return out;
    }
    return v;
  };
  let text = JSON.stringify(sorted(value)).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  if (escapeHTML) text = text.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
  return text;
}

/** Go sorts map keys by bytes (UTF-8), not UTF-16 code units. */
function byUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** ESO's GetByteValue for a decoded JSON value. */
function byteValue(v: unknown): Uint8Array {
  if (typeof v === 'string') return encoder.encode(v);
  if (typeof v === 'number') return encoder.encode(formatFloatF(v));
  if (typeof v === 'boolean') return encoder.encode(String(v));
  if (v === null || v === undefined) return new Uint8Array();
  return encoder.encode(goJsonMarshal(v, true));
}

function rewriteMerge(op: ExternalSecretRewriteMerge, input: Map<string, Uint8Array>, field: string): Map<string, Uint8Array> {
  const priority = op.priority ?? [];
  const keys = [...input.keys()].filter((k) => !priority.includes(k)).sort(byUtf8).concat(priority);
  const merged = new Map<string, unknown>();
  const conflicts: string[] = [];
  for (const key of keys) {
    const value = input.get(key);
    if (value === undefined) {
      if (op.priorityPolicy === 'IgnoreNotFound') continue;
      throw syncErrors.mergeFailed(field, `key ${JSON.stringify(key)} not found in input map`);
    }
    let parsed: unknown;
    const text = decoder.decode(value);
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    // Marshalling it back is recursive: refuse what Go refuses before the stack does.
    if (jsonDepth(text) > MAX_JSON_DEPTH) throw syncErrors.mergeFailed(field, `value of key ${JSON.stringify(key)} is JSON nested too deeply (limit ${MAX_JSON_DEPTH})`);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw syncErrors.mergeFailed(field, `value of key ${JSON.stringify(key)} is not a JSON object`);
    }
    for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
      if (merged.has(k)) conflicts.push(k);
      merged.set(k, v);
    }
  }
  if ((op.conflictPolicy ?? 'Error') !== 'Ignore' && conflicts.length > 0) {
    throw syncErrors.mergeFailed(field, `conflicts: ${conflicts.map((c) => JSON.stringify(c)).join(', ')}`);
  }
  if ((op.strategy ?? 'Extract') === 'JSON') {
    if (!op.into) throw syncErrors.mergeFailed(field, "missing 'into' field");
    const out = new Map(input);
    out.set(op.into, encoder.encode(goJsonMarshal(Object.fromEntries(merged), false)));
    return out;
  }
  const out = new Map<string, Uint8Array>();
  for (const [k, v] of merged) out.set(k, byteValue(v));
  return out;
}
