// Go regexp (RE2 syntax, leftmost-first) on top of JS RegExp: the pattern is translated so that
// JS matches what Go matches (ASCII \d\w\s\b, Go's ^ $ . under flags, (?i) scoping, POSIX classes,
// \Q..\E, \pN, \x{...}, octal escapes) and Go's iteration rules for All/Replace/Split are applied.

import { GoError } from '../exec.ts';
import { canBackquote, quote } from '../strconv.ts';

export class RegexpSyntaxError extends GoError {}

interface Flags { i: boolean; m: boolean; s: boolean; U: boolean }

const WORD = '0-9A-Za-z_';
const posix: Record<string, string> = {
  alnum: '0-9A-Za-z', alpha: 'A-Za-z', ascii: '\\x00-\\x7F', blank: '\\t ', cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9', graph: '!-~', lower: 'a-z', print: ' -~', punct: '!-\\/:-@\\[-`{-~', space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z', word: WORD, xdigit: '0-9A-Fa-f',
};
const perlClass: Record<string, [string, boolean]> = {
  d: ['0-9', false], D: ['0-9', true], s: ['\\t\\n\\f\\r ', false], S: ['\\t\\n\\f\\r ', true], w: [WORD, false], W: [WORD, true],
};

const unicodeCategories = new Set(['C', 'Cc', 'Cf', 'Co', 'Cs', 'L', 'Ll', 'Lm', 'Lo', 'Lt', 'Lu', 'M', 'Mc', 'Me', 'Mn', 'N', 'Nd', 'Nl', 'No', 'P', 'Pc', 'Pd', 'Pe', 'Pf', 'Pi', 'Po', 'Ps', 'S', 'Sc', 'Sk', 'Sm', 'So', 'Z', 'Zl', 'Zp', 'Zs']);

function err(code: string, expr: string): never {
  throw new RegexpSyntaxError(`error parsing regexp: ${code}: \`${expr}\``);
}

function escCp(cp: number): string {
  if ((cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a)) return String.fromCodePoint(cp);
  return `\\u{${cp.toString(16)}}`;
}

class Translator {
  src: string;
  pos = 0;
  out = '';
  names: string[] = [];
  ngroups = 0;

  constructor(src: string) {
    this.src = src;
  }

  peekCp(): number {
    return this.src.codePointAt(this.pos) ?? -1;
  }
  nextCp(): number {
    const c = this.src.codePointAt(this.pos)!;
    this.pos += c > 0xffff ? 2 : 1;
    return c;
  }

  // parse an escape at this.pos (pointing after the backslash). Returns either a literal code point
  // or a class fragment (for use inside/outside brackets).
  escape(inClass: boolean, flags: Flags): { cp?: number; cls?: string; neg?: boolean; assert?: string } {
    const start = this.pos - 1;
    if (this.pos >= this.src.length) err('trailing backslash at end of expression', '');
    const c = this.nextCp();
    const ch = String.fromCodePoint(c);
    switch (ch) {
      case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
        // octal \123 requires leading digit then up to 2 more; Go only allows if followed by digits? (backreferences unsupported)
        if (!/[0-7]/.test(this.src[this.pos] ?? '')) err('invalid escape sequence', this.src.slice(start, this.pos));
        let v = c - 48;
        for (let k = 0; k < 2 && /[0-7]/.test(this.src[this.pos] ?? ''); k++) v = v * 8 + (this.src.charCodeAt(this.pos++) - 48);
        return { cp: v };
      }
      case '0': {
        let v = c - 48;
        for (let k = 0; k < 2 && /[0-7]/.test(this.src[this.pos] ?? ''); k++) v = v * 8 + (this.src.charCodeAt(this.pos++) - 48);
        return { cp: v };
      }
      case 'x': {
        if (this.src[this.pos] === '{') {
          const end = this.src.indexOf('}', this.pos);
          const hex = end < 0 ? '' : this.src.slice(this.pos + 1, end);
          if (end < 0 || !/^[0-9A-Fa-f]+$/.test(hex) || parseInt(hex, 16) > 0x10ffff) err('invalid escape sequence', this.src.slice(start, end < 0 ? this.src.length : end + 1));
          this.pos = end + 1;
          return { cp: parseInt(hex, 16) };
        }
        const hex = this.src.slice(this.pos, this.pos + 2);
        if (!/^[0-9A-Fa-f]{2}$/.test(hex)) err('invalid escape sequence', this.src.slice(start, Math.min(this.src.length, this.pos + 2)));
        this.pos += 2;
        return { cp: parseInt(hex, 16) };
      }
      case 'a': return { cp: 7 };
      case 'f': return { cp: 12 };
      case 't': return { cp: 9 };
      case 'n': return { cp: 10 };
      case 'r': return { cp: 13 };
      case 'v': return { cp: 11 };
      case 'd': case 'D': case 's': case 'S': case 'w': case 'W': {
        const [cls, neg] = perlClass[ch]!;
        return { cls, neg };
      }
      case 'p': case 'P': {
        let name: string;
        if (this.src[this.pos] === '{') {
          const end = this.src.indexOf('}', this.pos);
          if (end < 0) err('invalid character class range', this.src.slice(start));
          name = this.src.slice(this.pos + 1, end);
          this.pos = end + 1;
        } else {
          if (this.pos >= this.src.length) err('invalid character class range', this.src.slice(start));
          name = String.fromCodePoint(this.nextCp());
        }
        let neg = ch === 'P';
        if (name.startsWith('^')) {
          neg = !neg;
          name = name.slice(1);
        }
        let prop: string;
        if (name === 'Any') prop = '\\p{Any}';
        else if (unicodeCategories.has(name)) prop = `\\p{${name}}`;
        else {
          try {
            new RegExp(`\\p{sc=${name}}`, 'u');
          } catch {
            err('invalid character class range', this.src.slice(start, this.pos));
          }
          prop = `\\p{sc=${name}}`;
        }
        void flags;
        return { cls: prop, neg };
      }
      case 'b': case 'B': case 'A': case 'z':
        if (inClass) err('invalid escape sequence', this.src.slice(start, this.pos));
        return { assert: ch };
      case 'Q': {
        // handled by caller (outside class only)
        return { assert: 'Q' };
      }
    }
    if (c < 0x80 && !/[0-9A-Za-z]/.test(ch)) return { cp: c };
    err('invalid escape sequence', this.src.slice(start, this.pos));
  }

  // parse [...] starting after '['; returns JS class source
  parseClass(flags: Flags): string {
    const start = this.pos - 1;
    let neg = false;
    if (this.src[this.pos] === '^') {
      neg = true;
      this.pos++;
    }
    const parts: string[] = []; // positive items
    const negParts: string[] = []; // negated sub-classes (\D, [:^alpha:], \P)
    let first = true;
    while (true) {
      if (this.pos >= this.src.length) err('missing closing ]', this.src.slice(start));
      const c = this.src[this.pos]!;
      if (c === ']' && !first) {
        this.pos++;
        break;
      }
      first = false;
      if (c === '[' && this.src[this.pos + 1] === ':') {
        const end = this.src.indexOf(':]', this.pos + 2);
        if (end >= 0) {
          let name = this.src.slice(this.pos + 2, end);
          let pneg = false;
          if (name.startsWith('^')) {
            pneg = true;
            name = name.slice(1);
          }
          const cls = posix[name];
          if (cls === undefined) err('invalid character class range', this.src.slice(this.pos, end + 2));
          this.pos = end + 2;
          (pneg ? negParts : parts).push(cls);
          continue;
        }
      }
      // single char or range
      const lo = this.classAtom(flags, parts, negParts);
      if (lo === null) continue;
      if (this.src[this.pos] === '-' && this.src[this.pos + 1] !== ']' && this.pos + 1 < this.src.length) {
        const save = this.pos;
        this.pos++;
        const hiStart = this.pos;
        const hi = this.classAtom(flags, parts, negParts, true);
        if (hi === null) err('invalid character class range', this.src.slice(save - String.fromCodePoint(lo).length, this.pos));
        if (hi < lo) err('invalid character class range', this.src.slice(save - String.fromCodePoint(lo).length, this.pos));
        void hiStart;
        parts.push(escCp(lo) + '-' + escCp(hi));
      } else parts.push(escCp(lo));
    }
    const pos = parts.join('');
    let cls: string;
    if (negParts.length === 0) cls = `[${neg ? '^' : ''}${pos}]`;
    else {
      // union of positive set and complemented sets
      const alts = [];
      if (pos) alts.push(`[${pos}]`);
      for (const n of negParts) alts.push(`[^${n}]`);
      const union = `(?:${alts.join('|')})`;
      cls = neg ? `(?:(?!${union})[^])` : union;
    }
    if (flags.i) return `(?i:${cls})`;
    return cls;
  }

  classAtom(flags: Flags, parts: string[], negParts: string[], rangeHi = false): number | null {
    const c = this.nextCp();
    if (c === 0x5c) {
      const e = this.escape(true, flags);
      if (e.cls !== undefined) {
        if (rangeHi) return null;
        (e.neg ? negParts : parts).push(e.cls);
        return null;
      }
      return e.cp!;
    }
    return c;
  }

  translate(): string {
    const flagsStack: { flags: Flags; wrapper: string | null; base: Flags; isGroupStart: boolean }[] = [];
    let flags: Flags = { i: false, m: false, s: false, U: false };
    let wrapper: string | null = null; // currently open (?i: / (?-i: wrapper for this group
    let baseI = false; // JS-effective i at group start
    let canRepeat = false;
    let lastRepeat = false;
    let depth = 0;
    const openWrapper = (): void => {
      if (flags.i !== baseI) {
        wrapper = flags.i ? '(?i:' : '(?-i:';
        this.out += wrapper;
      } else wrapper = null;
    };
    while (this.pos < this.src.length) {
      const atomStart = this.out.length;
      const c = this.src[this.pos]!;
      switch (c) {
        case '(': {
          this.pos++;
          if (this.src[this.pos] === '?') {
            const rest = this.src.slice(this.pos + 1);
            let m = /^P?<([^>]*)>/.exec(rest);
            if (m) {
              if (rest[0] === 'P' && rest[1] !== '<') err('invalid or unsupported Perl syntax', '(?P');
              const name = m[1]!;
              if (!/^[A-Za-z0-9_]+$/.test(name)) err('invalid named capture', this.src.slice(this.pos - 1, this.pos + 1 + m[0].length));
              if (this.names.includes(name)) err('duplicate capture group name', this.src.slice(this.pos - 1, this.pos + 1 + m[0].length));
              this.pos += 1 + m[0].length;
              this.ngroups++;
              this.names[this.ngroups] = name;
              flagsStack.push({ flags: { ...flags }, wrapper, base: { ...flags, i: baseI }, isGroupStart: true });
              this.out += `(?<${name}>`;
              baseI = flags.i;
              wrapper = null;
              depth++;
              canRepeat = false;
              lastRepeat = false;
              continue;
            }
            m = /^([imsU]*)(?:-([imsU]*))?([:)])/.exec(rest);
            if (!m || (m[2] !== undefined && m[2] === '') || (m[1] === '' && m[2] === undefined && m[3] === ')')) {
              const end = Math.min(this.src.length, this.pos + 2);
              if (m && m[3] === ')') err('missing argument to repetition operator', this.src.slice(this.pos - 1, this.pos + 1 + m[0].length));
              err('invalid or unsupported Perl syntax', this.src.slice(this.pos - 1, end));
            }
            const nf = { ...flags };
            for (const f of m[1]!) nf[f as keyof Flags] = true;
            for (const f of m[2] ?? '') nf[f as keyof Flags] = false;
            this.pos += 1 + m[0].length;
            if (m[3] === ')') {
              // flags for the rest of the current group
              if (wrapper) this.out += ')';
              flags = nf;
              openWrapper();
              canRepeat = false;
              lastRepeat = false;
              continue;
            }
            flagsStack.push({ flags: { ...flags }, wrapper, base: { ...flags, i: baseI }, isGroupStart: true });
            flags = nf;
            this.out += '(?:';
            baseI = flagsStack[flagsStack.length - 1]!.flags.i;
            openWrapper();
            depth++;
            canRepeat = false;
            lastRepeat = false;
            continue;
          }
          this.ngroups++;
          flagsStack.push({ flags: { ...flags }, wrapper, base: { ...flags, i: baseI }, isGroupStart: true });
          this.out += '(';
          baseI = flags.i;
          wrapper = null;
          depth++;
          canRepeat = false;
          lastRepeat = false;
          continue;
        }
        case ')': {
          if (depth === 0) err('unexpected )', this.src);
          this.pos++;
          if (wrapper) this.out += ')';
          const st = flagsStack.pop()!;
          flags = st.flags;
          wrapper = st.wrapper;
          baseI = st.base.i;
          this.out += ')';
          depth--;
          canRepeat = true;
          lastRepeat = false;
          continue;
        }
        case '|':
          this.pos++;
          if (wrapper) this.out += ')|' + wrapper;
          else this.out += '|';
          canRepeat = false;
          lastRepeat = false;
          continue;
        case '*': case '+': case '?': case '{': {
          let op: string = c;
          let j = this.pos + 1;
          if (c === '{') {
            const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.pos));
            if (!m) {
              // literal brace
              this.pos++;
              this.out += '\\{';
              canRepeat = true;
              lastRepeat = false;
              continue;
            }
            op = m[0];
            j = this.pos + m[0].length;
            const lo = Number(m[1]);
            const hi = m[3] === undefined ? (m[2] ? -1 : lo) : m[3] === '' ? -1 : Number(m[3]);
            if (lo > 1000 || hi > 1000 || (hi >= 0 && hi < lo)) err('invalid repeat count', op);
          }
          let lazy = false;
          if (this.src[j] === '?') {
            lazy = true;
            j++;
          }
          if (!canRepeat) err('missing argument to repetition operator', this.src.slice(this.pos, j));
          if (lastRepeat) err('invalid nested repetition operator', this.src.slice(this.lastRepeatStart, j));
          this.lastRepeatStart = this.pos;
          if (flags.U) lazy = !lazy;
          this.out += op + (lazy ? '?' : '');
          this.pos = j;
          lastRepeat = true;
          continue;
        }
        case '^':
          this.pos++;
          this.out += flags.m ? '(?<![^\\n])' : '^';
          canRepeat = true; // Go allows repetition of empty-width assertions
          lastRepeat = false;
          continue;
        case '$':
          this.pos++;
          this.out += flags.m ? '(?![^\\n])' : '$';
          canRepeat = true;
          lastRepeat = false;
          continue;
        case '.':
          this.pos++;
          this.out += flags.s ? '[^]' : '[^\\n]';
          canRepeat = true;
          lastRepeat = false;
          continue;
        case '[':
          this.pos++;
          this.out += this.parseClass(flags);
          canRepeat = true;
          lastRepeat = false;
          continue;
        case '\\': {
          this.pos++;
          if (this.src[this.pos] === 'Q') {
            this.pos++;
            const end = this.src.indexOf('\\E', this.pos);
            const lit = end < 0 ? this.src.slice(this.pos) : this.src.slice(this.pos, end);
            this.pos = end < 0 ? this.src.length : end + 2;
            const cps = [...lit];
            if (cps.length === 0) continue;
            // each literal char is an atom; only the last one can be repeated
            this.out += cps.map((ch) => escCp(ch.codePointAt(0)!)).join('');
            canRepeat = true;
            lastRepeat = false;
            continue;
          }
          const e = this.escape(false, flags);
          if (e.assert !== undefined) {
            switch (e.assert) {
              case 'A': this.out += '^'; break;
              case 'z': this.out += '$'; break;
              case 'b': this.out += `(?:(?<=[${WORD}])(?![${WORD}])|(?<![${WORD}])(?=[${WORD}]))`; break;
              case 'B': this.out += `(?:(?<=[${WORD}])(?=[${WORD}])|(?<![${WORD}])(?![${WORD}]))`; break;
            }
            canRepeat = true;
            lastRepeat = false;
            continue;
          }
          if (e.cls !== undefined) this.out += (e.neg ? '[^' : '[') + e.cls + ']';
          else this.out += escCp(e.cp!);
          canRepeat = true;
          lastRepeat = false;
          continue;
        }
        default: {
          const cp = this.nextCp();
          this.out += escCp(cp);
          canRepeat = true;
          lastRepeat = false;
          void atomStart;
          continue;
        }
      }
    }
    if (depth > 0) err('missing closing )', this.src);
    if (wrapper) this.out += ')';
    return this.out;
  }

  lastRepeatStart = 0;
}

export interface GoRegexp {
  re: RegExp; // global, unicode
  names: string[]; // index -> group name
  ngroups: number;
  expr: string;
}

const cache = new Map<string, GoRegexp | RegexpSyntaxError>();

export function compile(expr: string): GoRegexp {
  let r = cache.get(expr);
  if (r === undefined) {
    try {
      const t = new Translator(expr);
      const src = t.translate();
      let re: RegExp;
      try {
        re = new RegExp(src, 'gu');
      } catch (e) {
        throw new RegexpSyntaxError(`error parsing regexp: unsupported pattern (${(e as Error).message}): \`${expr}\``);
      }
      r = { re, names: t.names, ngroups: t.ngroups, expr };
    } catch (e) {
      if (!(e instanceof RegexpSyntaxError)) throw e;
      r = e;
    }
    if (cache.size > 1000) cache.clear();
    cache.set(expr, r);
  }
  if (r instanceof RegexpSyntaxError) throw r;
  return r;
}

export function mustCompile(expr: string): GoRegexp {
  try {
    return compile(expr);
  } catch (e) {
    const q = canBackquote(expr) ? '`' + expr + '`' : quote(expr);
    throw new GoError(`regexp: Compile(${q}): ${(e as Error).message}`);
  }
}

function execAt(r: GoRegexp, s: string, pos: number): RegExpExecArray | null {
  r.re.lastIndex = pos;
  return r.re.exec(s);
}

function advance(s: string, pos: number): number {
  if (pos >= s.length) return pos + 1;
  const c = s.charCodeAt(pos);
  return c >= 0xd800 && c <= 0xdbff && pos + 1 < s.length ? pos + 2 : pos + 1;
}

// Go's allMatches iteration
export function allMatches(r: GoRegexp, s: string, n: number, deliver: (m: RegExpExecArray) => void): void {
  if (n < 0) n = s.length + 1;
  let pos = 0;
  let i = 0;
  let prevMatchEnd = -1;
  while (i < n && pos <= s.length) {
    const m = execAt(r, s, pos);
    if (m === null) break;
    const start = m.index;
    const end = start + m[0].length;
    let accept = true;
    if (end === pos) {
      if (start === prevMatchEnd) accept = false;
      pos = advance(s, pos);
    } else pos = end;
    prevMatchEnd = end;
    if (accept) {
      deliver(m);
      i++;
    }
  }
}

export function matchString(r: GoRegexp, s: string): boolean {
  return execAt(r, s, 0) !== null;
}

export function findString(r: GoRegexp, s: string): string {
  const m = execAt(r, s, 0);
  return m === null ? '' : m[0];
}

export function findAllString(r: GoRegexp, s: string, n: number): string[] | null {
  const out: string[] = [];
  allMatches(r, s, n, (m) => out.push(m[0]));
  return out.length === 0 ? null : out;
}

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
    if (i >= str.length || str[i] !== '}') return null;
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

function expand(r: GoRegexp, template: string, m: RegExpExecArray): string {
  let dst = '';
  while (template.length > 0) {
    const k = template.indexOf('$');
    if (k < 0) break;
    dst += template.slice(0, k);
    template = template.slice(k + 1);
    if (template[0] === '$') {
      dst += '$';
      template = template.slice(1);
      continue;
    }
    const x = extract(template);
    if (x === null) {
      dst += '$';
      continue;
    }
    template = x.rest;
    if (x.num >= 0) {
      if (x.num <= r.ngroups) dst += m[x.num] ?? '';
    } else {
      const idx = r.names.indexOf(x.name);
      if (idx > 0) dst += m[idx] ?? '';
    }
  }
  return dst + template;
}

export function replaceAll(r: GoRegexp, src: string, repl: string, literal: boolean): string {
  let buf = '';
  let lastMatchEnd = 0;
  let searchPos = 0;
  while (searchPos <= src.length) {
    const m = execAt(r, src, searchPos);
    if (m === null) break;
    const a0 = m.index;
    const a1 = a0 + m[0].length;
    buf += src.slice(lastMatchEnd, a0);
    if (a1 > lastMatchEnd || a0 === 0) buf += literal ? repl : expand(r, repl, m);
    lastMatchEnd = a1;
    const width = advance(src, searchPos) - searchPos;
    if (searchPos + width > a1) searchPos += width;
    else if (searchPos + 1 > a1) searchPos++;
    else searchPos = a1;
  }
  return buf + src.slice(lastMatchEnd);
}

export function split(r: GoRegexp, s: string, n: number): string[] | null {
  if (n === 0) return null;
  if (r.expr.length > 0 && s.length === 0) return [''];
  const matches: [number, number][] = [];
  allMatches(r, s, n, (m) => matches.push([m.index, m.index + m[0].length]));
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

export function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}
