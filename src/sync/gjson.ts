// Property extraction with github.com/tidwall/gjson path semantics, the syntax ESO documents for
// remoteRef.property: dotted paths, `\.` escapes, `*`/`?` wildcards in keys, array indices,
// `#` (array length) and `#.field` (collect a field from every element). Queries `#(...)`,
// modifiers `@...` and pipes `|` are refused with a clear error rather than guessed.
import { arrayElements, objectMembers, type RawValue } from './json-raw.ts';

export class UnsupportedPathError extends Error {
  readonly what: string;
  constructor(what: string) {
    super(`unsupported gjson syntax: ${what}`);
    this.what = what;
  }
}

interface Component {
  text: string;
  /** The text had wildcard characters that were not escaped. */
  wild: boolean;
}

export function splitPath(path: string): Component[] {
  const out: Component[] = [];
  let text = '';
  let wild = false;
  for (let i = 0; i < path.length; i++) {
    const c = path[i]!;
    if (c === '\\' && i + 1 < path.length) {
      text += path[++i];
      continue;
    }
    if (c === '.') {
      out.push({ text, wild });
      text = '';
      wild = false;
      continue;
    }
    if (c === '|') throw new UnsupportedPathError('pipes (|)');
    if (c === '*' || c === '?') wild = true;
    if (text === '' && c === '@') throw new UnsupportedPathError('modifiers (@)');
    if (text === '#' && c === '(') throw new UnsupportedPathError('queries (#(...))');
    text += c;
  }
  out.push({ text, wild });
  return out;
}

/**
 * gjson's wildcard match: `*` any run, `?` any one character (code point). Both the pattern (from
 * a tenant's remoteRef.property) and the key (from remote data) are hostile, so this is a set-of-
 * states automaton walked once over the key, O(key × pattern) at worst: a backtracking matcher
 * (or a RegExp of `[\s\S]*` runs) takes polynomial time of high degree on `*a*a*a*a*a*b`.
 */
export function wildMatch(pattern: string, key: string): boolean {
  const pat: number[] = [];
  for (const ch of pattern) {
    const c = ch.codePointAt(0)!;
    if (c === STAR && pat[pat.length - 1] === STAR) continue; // `**` is `*`
    pat.push(c);
  }
  const m = pat.length;
  // State i: pat[0..i) has matched. A star at i may match nothing, so state i also means i + 1.
  let current = new Uint8Array(m + 1);
  let next = new Uint8Array(m + 1);
  const close = (set: Uint8Array): void => {
    for (let i = 0; i < m; i++) if (set[i] && pat[i] === STAR) set[i + 1] = 1;
  };
  current[0] = 1;
  close(current);
  for (const ch of key) {
    const c = ch.codePointAt(0)!;
    next.fill(0);
    let alive = false;
    for (let i = 0; i < m; i++) {
      if (!current[i]) continue;
      const p = pat[i]!;
      if (p === STAR) next[i] = 1;
      else if (p === QUESTION || p === c) next[i + 1] = 1;
      else continue;
      alive = true;
    }
    if (!alive) return false;
    close(next);
    [current, next] = [next, current];
  }
  return current[m] === 1;
}

const STAR = 0x2a;
const QUESTION = 0x3f;

function step(value: RawValue, comps: Component[], at: number): RawValue | undefined {
  if (at === comps.length) return value;
  const comp = comps[at]!;
  if (value.kind === 'object') {
    for (const [key, member] of objectMembers(value.raw)) {
      if (comp.wild ? wildMatch(comp.text, key) : key === comp.text) {
        // gjson takes the first matching key.
        return step(member, comps, at + 1);
      }
    }
    return undefined;
  }
  if (value.kind === 'array') {
    const elements = arrayElements(value.raw);
    if (comp.text === '#' && !comp.wild) {
      if (at === comps.length - 1) return { kind: 'number', raw: String(elements.length) };
      const collected: string[] = [];
      for (const element of elements) {
        const found = step(element, comps, at + 1);
        if (found !== undefined) collected.push(found.raw);
      }
      return { kind: 'array', raw: `[${collected.join(',')}]` };
    }
    if (/^\d+$/.test(comp.text)) {
      const element = elements[Number(comp.text)];
      return element === undefined ? undefined : step(element, comps, at + 1);
    }
    return undefined;
  }
  return undefined;
}

/** Looks `path` up in a parsed document; undefined when it does not exist. */
export function gjsonGet(doc: RawValue, path: string): RawValue | undefined {
  if (path === '') return undefined;
  return step(doc, splitPath(path), 0);
}
