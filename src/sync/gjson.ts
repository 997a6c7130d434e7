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

/** gjson's wildcard match: `*` any run, `?` any one character. */
function wildMatch(pattern: string, key: string): boolean {
  const re = new RegExp(`^${[...pattern].map((ch) => (ch === '*' ? '[\\s\\S]*' : ch === '?' ? '[\\s\\S]' : ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('')}$`, 'u');
  return re.test(key);
}

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
