// dataFrom[].rewrite: applied in order (first to last) to the keys found by extract/find/generator.
import type { ExternalSecretRewrite, ExternalSecretRewriteMerge } from '../api/types.generated.ts';
import { BudgetExceededError } from '../template/budget.ts';
import { syncErrors } from './errors.ts';
import { compile, RegexpError, replaceAllString, type GoRegexp } from '../go/regexp.ts';
import { formatFloatF, jsonDepth, MAX_JSON_DEPTH } from './json-raw.ts';
import { goJsonMarshal, GoJsonError, parseGoJson } from '../go/json.ts';
import { compareGoStrings } from '../go/sort.ts';

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

/** ESO's GetByteValue for a decoded JSON value. */
function byteValue(v: unknown): Uint8Array {
  if (typeof v === 'string') return encoder.encode(v);
  if (typeof v === 'number') return encoder.encode(formatFloatF(v));
  if (typeof v === 'boolean') return encoder.encode(String(v));
  if (v === null || v === undefined) return new Uint8Array();
  return encoder.encode(goJsonMarshal(v, { escapeHTML: true }));
}

function rewriteMerge(op: ExternalSecretRewriteMerge, input: Map<string, Uint8Array>, field: string): Map<string, Uint8Array> {
  const priority = op.priority ?? [];
  const keys = [...input.keys()].filter((k) => !priority.includes(k)).sort(compareGoStrings).concat(priority);
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
      // As Go's json.Unmarshal: a number float64 cannot hold (1e400) is refused, not made Infinity.
      parsed = parseGoJson(text);
    } catch (err) {
      if (err instanceof GoJsonError) throw syncErrors.mergeFailed(field, `value of key ${JSON.stringify(key)} holds a number out of float64 range`);
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
    out.set(op.into, encoder.encode(goJsonMarshal(merged, { escapeHTML: false })));
    return out;
  }
  const out = new Map<string, Uint8Array>();
  for (const [k, v] of merged) out.set(k, byteValue(v));
  return out;
}
