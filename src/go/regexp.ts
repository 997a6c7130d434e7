// Go's regexp package for every pattern a tenant writes (dataFrom.rewrite.regexp, find.name.regexp,
// ClusterSecretStore namespaceRegexes, the template regex functions), written once.
//
// Why re2js and not a translation to JS RegExp: JS RegExp backtracks, so `(a+)+$` against a
// 40-character key never finishes and stalls the one event loop for every tenant. re2js is a port
// of RE2 (the engine behind Go's regexp): it accepts exactly Go's syntax, reports Go's syntax
// errors in Go's words, and matches in time linear in the input (times the size of the compiled
// pattern). What this module adds on top is Go's API semantics, which re2js does not all offer:
// ReplaceAllString's `$1`/`${name}` expansion and its rule for empty matches, Split, QuoteMeta, and
// the limits below.
//
// Positions are UTF-16 indices into JS strings (re2js matches on UTF-16 input directly); a
// surrogate pair is one rune, as in Go's UTF-8 view of the same text.

import { RE2JS, RE2JSException } from 're2js';

/** Any refusal of this module; callers catch this one class. */
export class RegexpError extends Error {}

/** A pattern Go's regexp.Compile refuses, or one over our limits. The message is Go's where Go has one. */
export class RegexpSyntaxError extends RegexpError {}

/** A match refused because it could cost more than MAX_MATCH_COST, or stopped at MAX_MATCH_CPU_MS. */
export class RegexpCostError extends RegexpError {}

/**
 * Longest pattern accepted, in UTF-16 code units: parsing costs time and memory in proportion to
 * the pattern (about 2.5 ms per KiB, measured), and hand-written patterns (rewrite, find,
 * namespace conditions) are far shorter. Literal text is further bounded by MAX_PROGRAM_SIZE (one
 * instruction per character), so this limit matters for long classes. Go has no such limit.
 */
export const MAX_PATTERN_LENGTH = 64 * 1024;

/**
 * Largest compiled program accepted, in RE2 instructions. A short pattern can compile to a large
 * program (`(?:x{999}y){1000}` is 1,000,000 instructions and takes 1.4 s to compile; 21,000 `\pL`
 * take 0.85 s). Go's own limit is about 3.3 million; 20,000 covers realistic patterns
 * (`[a-z0-9]{1,1000}` is about 2,000; a 100-character literal about 100). Patterns estimated at
 * more than four times this (estimateProgramSize) are refused before compiling, so no compile
 * takes more than about 0.2 s.
 */
export const MAX_PROGRAM_SIZE = 20_000;

/**
 * Largest (program size × input length) a single call may work on. RE2 is linear in the input,
 * but the factor is the program: its NFA does up to one step per instruction per character, and
 * with every thread alive (`(a?){1000}[bc]$`, `(?i)` + a long literal) that is 12–50 ns per step
 * here, measured: a 65,000-instruction program took 76 s over 100,000 characters. 64 Mi steps
 * (at most 1–3 s, usually far less) lets a pattern of 64 instructions scan the largest Secret
 * value (1 MiB), and any pattern scan a key or a name. Go has no such limit.
 */
export const MAX_MATCH_COST = 64 * 1024 * 1024;

/**
 * CPU time one FindAll / ReplaceAll / Split may take. Each search is bounded by MAX_MATCH_COST,
 * but these run one search per match, and a search may read far past the match it returns before
 * leftmost-first semantics settle it: `x*y|x` over 20,000 `x` is 20,000 searches reading to the
 * end, 11 s (Go does the same). Ordinary work stays far below: 300,000 matches in a 900 KB value
 * take about 0.6 s. Counting CPU time of this thread, not wall time, keeps a loaded machine from
 * failing ordinary work.
 */
export const MAX_MATCH_CPU_MS = 2000;

export interface GoRegexp {
  /** The source pattern, as given. */
  readonly expr: string;
  /** Number of capturing groups (Go's NumSubexp). */
  readonly numSubexp: number;
  /** Group names by index; index 0 and unnamed groups are '' (Go's SubexpNames). */
  readonly names: readonly string[];
  /** Compiled program size, in instructions. */
  readonly size: number;
  readonly re: RE2JS;
}

function threadCpuMs(): number {
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1000;
}

/** The CPU budget of one multi-search call (MAX_MATCH_CPU_MS), read every 16 searches. */
class CpuBudget {
  private readonly started = threadCpuMs();
  private searches = 0;

  spend(): void {
    if ((++this.searches & 15) !== 0) return;
    const used = threadCpuMs() - this.started;
    if (used > MAX_MATCH_CPU_MS) {
      throw new RegexpCostError(`regexp: too costly: stopped after ${this.searches} searches and ${Math.round(used)} ms of CPU, the limit is ${MAX_MATCH_CPU_MS} ms`);
    }
  }
}

/** Refuses a match whose worst case would hold the thread too long (see MAX_MATCH_COST). */
function checkCost(r: GoRegexp, s: string): void {
  const cost = r.size * (s.length + 1);
  if (cost > MAX_MATCH_COST) {
    throw new RegexpCostError(`regexp: too costly: a pattern of ${r.size} instructions against ${s.length} characters, more than ${MAX_MATCH_COST} steps`);
  }
}

// ---------------------------------------------------------------- compile and cache

// A bounded LRU: compiled programs are reused across reconciles (the same rewrite runs on every
// refresh) and syntax errors are remembered too, so a bad pattern repeated by many ExternalSecrets
// is parsed once. Weighted by program size so that a few large programs cannot pin much memory.
const CACHE_MAX_ENTRIES = 1000;
const CACHE_MAX_WEIGHT = 2_000_000; // instructions in all cached programs together
const cache = new Map<string, { value: GoRegexp | RegexpSyntaxError; weight: number }>();
let cacheWeight = 0;

function remember(expr: string, value: GoRegexp | RegexpSyntaxError, weight: number): void {
  cache.set(expr, { value, weight });
  cacheWeight += weight;
  for (const [k, v] of cache) {
    if (cache.size <= CACHE_MAX_ENTRIES && cacheWeight <= CACHE_MAX_WEIGHT) break;
    cache.delete(k); // Map iterates in insertion order: the least recently used first
    cacheWeight -= v.weight;
  }
}

/**
 * An over-estimate of the compiled program's size, from one pass over the pattern: each atom (a
 * character, class, escape) counts 1, a group's atoms count again for each repetition `{n,m}`
 * asks of it. Compiling is what costs (1.4 s for a million instructions), so a pattern whose
 * estimate is far over MAX_PROGRAM_SIZE is refused before re2js compiles it. Malformed syntax is
 * left to re2js, which reports it in Go's words.
 */
export function estimateProgramSize(expr: string): number {
  const stack: number[] = [0]; // atoms counted in each open group
  let last = 0; // size of the last atom or group, which a quantifier would repeat
  const add = (n: number): void => {
    stack[stack.length - 1]! += n;
    last = n;
  };
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i]!;
    if (c === '\\') {
      const n = expr[i + 1];
      if (n === 'Q') {
        const end = expr.indexOf('\\E', i + 2);
        const literal = end < 0 ? expr.length - (i + 2) : end - (i + 2);
        stack[stack.length - 1]! += literal;
        last = literal > 0 ? 1 : 0;
        i = end < 0 ? expr.length : end + 1;
        continue;
      }
      if ((n === 'x' || n === 'p' || n === 'P') && expr[i + 2] === '{') {
        const end = expr.indexOf('}', i + 3);
        i = end < 0 ? expr.length : end;
      } else i += n === 'p' || n === 'P' ? 2 : 1;
      add(1);
    } else if (c === '[') {
      // A class is one instruction: skip to its closing ']' (a leading ']' or '^]' is literal).
      let j = i + 1;
      if (expr[j] === '^') j++;
      if (expr[j] === ']') j++;
      for (; j < expr.length && expr[j] !== ']'; j++) {
        if (expr[j] === '\\') j++;
        else if (expr[j] === '[' && expr[j + 1] === ':') {
          const end = expr.indexOf(':]', j + 2);
          if (end >= 0) j = end + 1;
        }
      }
      i = j;
      add(1);
    } else if (c === '(') {
      stack.push(0);
    } else if (c === ')') {
      const inner = stack.length > 1 ? stack.pop()! : 0;
      add(inner + 2);
    } else if (c === '*' || c === '+' || c === '?' || c === '|') {
      stack[stack.length - 1]! += 1;
    } else if (c === '{') {
      const m = /^\{(\d{1,4})(,(\d{0,4}))?\}/.exec(expr.slice(i, i + 12));
      if (!m) {
        add(1); // a literal '{'
        continue;
      }
      const times = m[3] ? Number(m[3]) : m[2] !== undefined ? Number(m[1]) + 1 : Number(m[1]);
      stack[stack.length - 1]! += last * Math.max(times - 1, 0) + times;
      last = last * times + times;
      i += m[0].length - 1;
    } else {
      if (c >= '\ud800' && c <= '\udbff') i++;
      add(1);
    }
  }
  return stack.reduce((a, b) => a + b, 0);
}

function compileUncached(expr: string): GoRegexp | RegexpSyntaxError {
  if (expr.length > MAX_PATTERN_LENGTH) {
    return new RegexpSyntaxError(`error parsing regexp: pattern too long: ${expr.length} characters, the limit is ${MAX_PATTERN_LENGTH}`);
  }
  const estimate = estimateProgramSize(expr);
  if (estimate > 4 * MAX_PROGRAM_SIZE) {
    return new RegexpSyntaxError(`error parsing regexp: expression too large: about ${estimate} instructions, the limit is ${MAX_PROGRAM_SIZE}`);
  }
  let re: RE2JS;
  try {
    re = RE2JS.compile(expr);
  } catch (err) {
    if (err instanceof RE2JSException) return new RegexpSyntaxError(err.message);
    if (err instanceof RangeError) return new RegexpSyntaxError('error parsing regexp: expression nests too deeply');
    throw err;
  }
  const size = re.re2Input.numberOfInstructions() as number;
  if (size > MAX_PROGRAM_SIZE) {
    return new RegexpSyntaxError(`error parsing regexp: expression too large: ${size} instructions, the limit is ${MAX_PROGRAM_SIZE}`);
  }
  const numSubexp = re.groupCount();
  const names = new Array<string>(numSubexp + 1).fill('');
  for (const [name, index] of Object.entries(re.namedGroups())) names[index] = name;
  return { expr, numSubexp, names, size, re };
}

/** Go's regexp.Compile. Throws RegexpSyntaxError with Go's message ("error parsing regexp: …"). */
export function compile(expr: string): GoRegexp {
  let hit = cache.get(expr);
  if (hit !== undefined) {
    cache.delete(expr); // re-insert: most recently used
    cache.set(expr, hit);
  } else {
    const value = compileUncached(expr);
    hit = { value, weight: value instanceof RegexpSyntaxError ? 1 : value.size };
    remember(expr, hit.value, hit.weight);
  }
  if (hit.value instanceof RegexpSyntaxError) throw hit.value;
  return hit.value;
}

/** Number of cached patterns (for tests of the bound). */
export function cachedPatternCount(): number {
  return cache.size;
}

// ---------------------------------------------------------------- matching

/** Go's MatchString: whether s contains any match (unanchored). Uses RE2's DFA when it can. */
export function matchString(r: GoRegexp, s: string): boolean {
  checkCost(r, s);
  return r.re.test(s);
}

/** Go's FindStringIndex: [start, end) of the leftmost match, or null. */
export function findStringIndex(r: GoRegexp, s: string): [number, number] | null {
  checkCost(r, s);
  const a = r.re.re2Input.findIndex(s) as number[] | null;
  return a === null ? null : [a[0]!, a[1]!];
}

/** Go's FindString: the leftmost match, '' when there is none. */
export function findString(r: GoRegexp, s: string): string {
  const a = findStringIndex(r, s);
  return a === null ? '' : s.slice(a[0], a[1]);
}

/**
 * Go's FindStringSubmatch: the match and its groups; a group that did not take part is undefined
 * (Go gives "" there, and no way to tell the two apart but the Index variant). Null: no match.
 */
export function findStringSubmatch(r: GoRegexp, s: string): (string | undefined)[] | null {
  checkCost(r, s);
  const a = r.re.re2Input.findSubmatchIndex(s) as number[] | null;
  return a === null ? null : groupsOf(s, a, r.numSubexp);
}

/** Go's FindAllStringIndex (n < 0: all). Empty matches abutting a previous match are skipped. Null: none. */
export function findAllStringIndex(r: GoRegexp, s: string, n: number): [number, number][] | null {
  const out: [number, number][] = [];
  allMatches(r, s, n, 1, (a) => out.push([a[0]!, a[1]!]));
  return out.length === 0 ? null : out;
}

/** Go's FindAllString (n < 0: all). Null: no match (Go's nil slice). */
export function findAllString(r: GoRegexp, s: string, n: number): string[] | null {
  return findAllStringIndex(r, s, n)?.map(([a, b]) => s.slice(a, b)) ?? null;
}

/** Go's FindAllStringSubmatch (n < 0: all). Null: no match. */
export function findAllStringSubmatch(r: GoRegexp, s: string, n: number): (string | undefined)[][] | null {
  const out: (string | undefined)[][] = [];
  allMatches(r, s, n, r.numSubexp + 1, (a) => out.push(groupsOf(s, a, r.numSubexp)));
  return out.length === 0 ? null : out;
}

// Go's Regexp.allMatches: up to n matches (n < 0: all); an empty match abutting the previous
// match is skipped, and after an empty match the search moves one rune on.
function allMatches(r: GoRegexp, s: string, n: number, ngroup: number, deliver: (a: number[]) => void): void {
  if (n === 0) return;
  checkCost(r, s);
  const budget = new CpuBudget();
  if (n < 0) n = s.length + 1;
  let pos = 0;
  let found = 0;
  let prevMatchEnd = -1;
  while (found < n && pos <= s.length) {
    const a = matchFrom(r, s, pos, ngroup);
    if (a === null) break;
    let accept = true;
    if (a[1] === pos) {
      if (a[0] === prevMatchEnd) accept = false;
      pos += pos < s.length ? runeWidth(s, pos) : 1;
    } else {
      pos = a[1]!;
    }
    prevMatchEnd = a[1]!;
    if (accept) {
      deliver(a);
      found++;
    }
    budget.spend();
  }
}

function groupsOf(s: string, a: readonly number[], numSubexp: number): (string | undefined)[] {
  const out: (string | undefined)[] = [];
  for (let i = 0; i <= numSubexp; i++) {
    const from = a[2 * i] ?? -1;
    out.push(from >= 0 ? s.slice(from, a[2 * i + 1]) : undefined);
  }
  return out;
}

// ---------------------------------------------------------------- replace

/**
 * The leftmost match at or after `pos` (Go's doExecute from a position: `^` and `\b` still see
 * the text before it), as [start, end, group 1 start, group 1 end, …] for `ngroup` groups
 * counting the whole match; a group that did not take part is -1, -1.
 */
function matchFrom(r: GoRegexp, src: string, pos: number, ngroup: number): number[] | null {
  const [ok, groups] = r.re.re2Input.matchWithGroup(src, pos, src.length, 0 /* UNANCHORED */, ngroup) as [boolean, number[] | null];
  return ok && groups ? groups : null;
}

/** Width in UTF-16 units of the rune at pos (Go advances by one rune, not one byte or unit). */
function runeWidth(s: string, pos: number): number {
  const c = s.charCodeAt(pos);
  return c >= 0xd800 && c <= 0xdbff && pos + 1 < s.length ? 2 : 1;
}

// Go's Regexp.replaceAll: an empty match right after the previous match is not replaced
// (`a*` on "baaac" gives "XbXcX", not "XbXXcX"), and the search restarts one rune further on.
function replaceAllWith(r: GoRegexp, src: string, ngroup: number, repl: (match: number[]) => string, maxLength = Infinity): string {
  checkCost(r, src);
  const tooLong = () => new RegexpCostError(`the replacement result would be longer than ${maxLength} characters`);
  const budget = new CpuBudget();
  let out = '';
  let lastMatchEnd = 0;
  let searchPos = 0;
  while (searchPos <= src.length) {
    const a = matchFrom(r, src, searchPos, ngroup);
    if (a === null) break;
    const start = a[0]!;
    const end = a[1]!;
    out += src.slice(lastMatchEnd, start);
    if (end > lastMatchEnd || start === 0) out += repl(a);
    // A tenant's target repeated at every (empty) match grows the output quadratically: stop early.
    if (out.length > maxLength) throw tooLong();
    lastMatchEnd = end;
    const width = searchPos < src.length ? runeWidth(src, searchPos) : 1;
    if (searchPos + width > end) searchPos += width;
    else if (searchPos + 1 > end) searchPos++;
    else searchPos = end;
    budget.spend();
  }
  out += src.slice(lastMatchEnd);
  if (out.length > maxLength) throw tooLong();
  return out;
}

/**
 * Go's ReplaceAllString: `$1`, `${1}`, `$name`, `${name}` and `$$` in repl are expanded (Go's
 * Expand). `maxLength` (no limit by default, as in Go) refuses a longer result with RegexpCostError.
 */
export function replaceAllString(r: GoRegexp, src: string, repl: string, maxLength = Infinity): string {
  if (!repl.includes('$')) return replaceAllWith(r, src, 1, () => repl, maxLength);
  return replaceAllWith(r, src, r.numSubexp + 1, (a) => expand(r, repl, src, a), maxLength);
}

/**
 * Like Go's ReplaceAllStringFunc, but `fn` receives the match and its groups (as
 * FindStringSubmatch gives them), for callers that rebuild text from groups.
 */
export function replaceAllStringSubmatchFunc(r: GoRegexp, src: string, fn: (groups: (string | undefined)[]) => string): string {
  return replaceAllWith(r, src, r.numSubexp + 1, (a) => fn(groupsOf(src, a, r.numSubexp)));
}

/** Go's ReplaceAllLiteralString: repl is inserted as is. */
export function replaceAllLiteralString(r: GoRegexp, src: string, repl: string, maxLength = Infinity): string {
  return replaceAllWith(r, src, 1, () => repl, maxLength);
}

// Go's extract: a name is the longest run of letters, digits and '_'; `${...}` needs the brace
// closed right after it. A number is a group index only when all digits and without a leading 0
// (so `$01` names a group "01", which never exists, and expands to nothing, as in Go).
function extract(str: string): { name: string; num: number; rest: string } | null {
  if (str === '') return null;
  let brace = false;
  if (str[0] === '{') {
    brace = true;
    str = str.slice(1);
  }
  const m = /^[\p{L}\p{Nd}_]+/u.exec(str);
  if (!m) return null;
  const name = m[0];
  let i = name.length;
  if (brace) {
    if (str[i] !== '}') return null;
    i++;
  }
  let num = 0;
  for (const ch of name) {
    if (ch < '0' || ch > '9' || num >= 1e8) {
      num = -1;
      break;
    }
    num = num * 10 + (ch.charCodeAt(0) - 48);
  }
  if (name[0] === '0' && name.length > 1) num = -1;
  return { name, num, rest: str.slice(i) };
}

/** Go's Regexp.Expand of `template` for the match positions `a` in `src`. */
function expand(r: GoRegexp, template: string, src: string, a: readonly number[]): string {
  const group = (i: number): string => {
    const from = a[2 * i] ?? -1;
    return from >= 0 ? src.slice(from, a[2 * i + 1]) : '';
  };
  let out = '';
  while (template.length > 0) {
    const k = template.indexOf('$');
    if (k < 0) break;
    out += template.slice(0, k);
    template = template.slice(k + 1);
    if (template[0] === '$') {
      out += '$';
      template = template.slice(1);
      continue;
    }
    const x = extract(template);
    if (x === null) {
      out += '$'; // malformed: the '$' is kept
      continue;
    }
    template = x.rest;
    if (x.num >= 0) {
      if (x.num <= r.numSubexp) out += group(x.num);
    } else {
      const index = r.names.indexOf(x.name);
      if (index > 0) out += group(index);
    }
  }
  return out + template;
}

// ---------------------------------------------------------------- split and quote

/** Go's Regexp.Split: n > 0 at most n pieces, n == 0 null (nil), n < 0 all. */
export function split(r: GoRegexp, s: string, n: number): string[] | null {
  if (n === 0) return null;
  if (r.expr.length > 0 && s.length === 0) return [''];
  const matches = findAllStringIndex(r, s, n) ?? [];
  const out: string[] = [];
  let beg = 0;
  let end = 0;
  for (const [a, b] of matches) {
    if (n > 0 && out.length === n - 1) break;
    end = a;
    if (b !== 0) out.push(s.slice(beg, end));
    beg = b;
  }
  if (end !== s.length) out.push(s.slice(beg));
  return out;
}

/** Go's QuoteMeta: escapes exactly `\.+*?()|[]{}^$`. */
export function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}
