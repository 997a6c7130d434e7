// YAML emitter reproducing go-yaml v2 output (as used by sigs.k8s.io/yaml.Marshal): block style,
// sorted keys, unindented sequences in mappings, go-yaml's scalar style selection and 80-column
// folding of plain/quoted scalars.

import { formatFloat, parseInt64, parseUint, parseFloat64 } from '../strconv.ts';

const BEST_WIDTH = 80;

function isPrintableCp(c: number): boolean {
  return c === 0x0a || (c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd && c !== 0xfeff);
}
const isBreak = (c: number): boolean => c === 0x0d || c === 0x0a || c === 0x85 || c === 0x2028 || c === 0x2029;
const isBlankZ = (c: number | undefined): boolean => c === undefined || c === 0x20 || c === 0x09 || isBreak(c) || c === 0;

function tryParse(f: () => unknown): boolean {
  try {
    f();
    return true;
  } catch {
    return false;
  }
}

const resolveMap = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON', 'n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF', '', '~', 'null', 'Null', 'NULL', '.nan', '.NaN', '.NAN', '.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF', '-.inf', '-.Inf', '-.INF', '<<']);

function looksLikeTimestamp(s: string): boolean {
  return /^\d{4}-\d{1,2}-\d{1,2}(?:$|[Tt ]\d{1,2}:\d{1,2}:\d{1,2}(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?$)/.test(s);
}

// true when the plain scalar would resolve to something other than a string
function resolvesNonString(s: string): boolean {
  if (resolveMap.has(s)) return true;
  const c = s[0];
  if (c === '.') return tryParse(() => parseFloat64(s)) && /^\.[0-9]/.test(s) ? true : tryParse(() => strictFloat(s));
  if (c === '+' || c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
    if (looksLikeTimestamp(s)) return true;
    const plain = s.replaceAll('_', '');
    if (tryParse(() => parseInt64(plain))) return true;
    if (tryParse(() => parseUint(plain))) return true;
    if (/^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(plain) && tryParse(() => parseFloat64(plain))) return true;
    if (plain.startsWith('0b') && /^[01]+$/.test(plain.slice(2))) return true;
    if (plain.startsWith('-0b') && /^[01]+$/.test(plain.slice(3))) return true;
  }
  return false;
}

function strictFloat(s: string): number {
  if (!/^\.[0-9]/.test(s)) throw new Error('no');
  return parseFloat64(s);
}

function isBase60Float(s: string): boolean {
  return /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/.test(s);
}

interface Analysis {
  multiline: boolean;
  blockPlain: boolean;
  singleQuoted: boolean;
  blockAllowed: boolean;
}

function analyze(s: string): Analysis {
  if (s.length === 0) return { multiline: false, blockPlain: true, singleQuoted: true, blockAllowed: false };
  const cps = [...s].map((ch) => ch.codePointAt(0)!);
  let blockInd = false;
  let lineBreaks = false;
  let special = false;
  let leadingSpace = false, leadingBreak = false, trailingSpace = false, trailingBreak = false, breakSpace = false, spaceBreak = false;
  let precededByWs = true, prevSpace = false, prevBreak = false;
  if (s.startsWith('---') || s.startsWith('...')) blockInd = true;
  for (let i = 0; i < cps.length; i++) {
    const c = cps[i]!;
    const followedByWs = i + 1 >= cps.length || cps[i + 1] === 0x20 || cps[i + 1] === 0x09 || isBreak(cps[i + 1]!);
    const ch = String.fromCodePoint(c);
    if (i === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(ch)) blockInd = true;
      else if ((ch === '?' || ch === ':') && followedByWs) blockInd = true;
      else if (ch === '-' && followedByWs) blockInd = true;
    } else {
      if (ch === ':' && followedByWs) blockInd = true;
      else if (ch === '#' && precededByWs) blockInd = true;
    }
    if (!isPrintableCp(c)) special = true;
    if (c === 0x20) {
      if (i === 0) leadingSpace = true;
      if (i === cps.length - 1) trailingSpace = true;
      if (prevBreak) breakSpace = true;
      prevSpace = true;
      prevBreak = false;
    } else if (isBreak(c)) {
      lineBreaks = true;
      if (i === 0) leadingBreak = true;
      if (i === cps.length - 1) trailingBreak = true;
      if (prevSpace) spaceBreak = true;
      prevSpace = false;
      prevBreak = true;
    } else {
      prevSpace = false;
      prevBreak = false;
    }
    precededByWs = isBlankZ(c);
  }
  const a: Analysis = { multiline: lineBreaks, blockPlain: true, singleQuoted: true, blockAllowed: true };
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) a.blockPlain = false;
  if (trailingSpace) a.blockAllowed = false;
  if (breakSpace) a.blockPlain = a.singleQuoted = false;
  if (spaceBreak || special) a.blockPlain = a.singleQuoted = a.blockAllowed = false;
  if (lineBreaks) a.blockPlain = false;
  if (blockInd) a.blockPlain = false;
  return a;
}

class Emitter {
  out = '';
  column = 0;

  write(s: string): void {
    this.out += s;
    const nl = s.lastIndexOf('\n');
    if (nl >= 0) this.column = [...s.slice(nl + 1)].length;
    else this.column += [...s].length;
  }

  writeIndent(indent: number): void {
    this.out += '\n' + ' '.repeat(indent);
    this.column = indent;
  }

  plain(s: string, indent: number, allowBreaks: boolean): void {
    const cps = [...s];
    let spaces = false;
    for (let i = 0; i < cps.length; i++) {
      const ch = cps[i]!;
      if (ch === ' ') {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && cps[i + 1] !== ' ') this.writeIndent(indent);
        else this.write(ch);
        spaces = true;
      } else {
        this.write(ch);
        spaces = false;
      }
    }
  }

  singleQuoted(s: string, indent: number, allowBreaks: boolean): void {
    this.write("'");
    const cps = [...s];
    let spaces = false;
    for (let i = 0; i < cps.length; i++) {
      const ch = cps[i]!;
      if (ch === ' ') {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && i !== 0 && i !== cps.length - 1 && cps[i + 1] !== ' ') this.writeIndent(indent);
        else this.write(ch);
        spaces = true;
      } else {
        this.write(ch === "'" ? "''" : ch);
        spaces = false;
      }
    }
    this.write("'");
  }

  doubleQuoted(s: string, indent: number, allowBreaks: boolean): void {
    this.write('"');
    const cps = [...s].map((c) => c.codePointAt(0)!);
    let spaces = false;
    for (let i = 0; i < cps.length; i++) {
      const c = cps[i]!;
      if (!isPrintableCp(c) || c === 0xfeff || isBreak(c) || c === 0x22 || c === 0x5c) {
        let e: string;
        switch (c) {
          case 0x00: e = '0'; break;
          case 0x07: e = 'a'; break;
          case 0x08: e = 'b'; break;
          case 0x09: e = 't'; break;
          case 0x0a: e = 'n'; break;
          case 0x0b: e = 'v'; break;
          case 0x0c: e = 'f'; break;
          case 0x0d: e = 'r'; break;
          case 0x1b: e = 'e'; break;
          case 0x22: e = '"'; break;
          case 0x5c: e = '\\'; break;
          case 0x85: e = 'N'; break;
          case 0xa0: e = '_'; break;
          case 0x2028: e = 'L'; break;
          case 0x2029: e = 'P'; break;
          default:
            if (c <= 0xff) e = 'x' + c.toString(16).toUpperCase().padStart(2, '0');
            else if (c <= 0xffff) e = 'u' + c.toString(16).toUpperCase().padStart(4, '0');
            else e = 'U' + c.toString(16).toUpperCase().padStart(8, '0');
        }
        this.write('\\' + e);
        spaces = false;
      } else if (c === 0x20) {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && i !== 0 && i !== cps.length - 1) {
          this.writeIndent(indent);
          if (cps[i + 1] === 0x20) this.write('\\');
        } else this.write(' ');
        spaces = true;
      } else {
        this.write(String.fromCodePoint(c));
        spaces = false;
      }
    }
    this.write('"');
  }

  literal(s: string, indent: number): void {
    let hints = '';
    const first = s.codePointAt(0)!;
    if (first === 0x20 || isBreak(first)) hints += '2';
    const last = s.codePointAt(s.length - 1)!;
    if (!isBreak(last)) hints += '-';
    else if (s.length === 1) hints += '+';
    else {
      const prev = s.codePointAt(s.length - 2)!;
      if (isBreak(prev)) hints += '+';
    }
    this.write('|' + hints);
    // lines
    const lines = s.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    this.out += '\n';
    this.column = 0;
    lines.forEach((line, i) => {
      if (line.length > 0) {
        this.out += ' '.repeat(indent) + line;
        this.column = indent + [...line].length;
      }
      if (i < lines.length - 1) {
        this.out += '\n';
        this.column = 0;
      }
    });
    if (s.endsWith('\n') && hints.includes('+')) {
      // keep trailing newlines: already represented by empty lines
    }
  }

  scalar(v: unknown, indent: number, simpleKey: boolean): void {
    if (v === null || v === undefined) return this.write('null');
    if (typeof v === 'boolean') return this.write(v ? 'true' : 'false');
    if (typeof v === 'bigint') return this.write(v.toString());
    if (typeof v === 'number') {
      let s = formatFloat(v, 'g', -1);
      if (s === '+Inf') s = '.inf';
      else if (s === '-Inf') s = '-.inf';
      else if (s === 'NaN') s = '.nan';
      return this.write(s);
    }
    const s = String(v);
    const canPlain = !resolvesNonString(s) && !isBase60Float(s);
    let style: 'plain' | 'single' | 'double' | 'literal' = s.includes('\n') ? 'literal' : canPlain ? 'plain' : 'double';
    const a = analyze(s);
    if (style === 'plain') {
      if (!a.blockPlain) style = 'single';
      if (s.length === 0 && simpleKey) style = 'single';
    }
    if (style === 'single' && !a.singleQuoted) style = 'double';
    if (style === 'literal' && (!a.blockAllowed || simpleKey)) style = 'double';
    switch (style) {
      case 'plain': return this.plain(s, indent, !simpleKey);
      case 'single': return this.singleQuoted(s, indent, !simpleKey);
      case 'double': return this.doubleQuoted(s, indent, !simpleKey);
      case 'literal': return this.literal(s, indent);
    }
  }

  isCollection(v: unknown): boolean {
    return (Array.isArray(v) && v.length > 0) || (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length > 0);
  }

  node(v: unknown, indent: number, ctx: 'root' | 'mapvalue' | 'seqitem'): void {
    if (Array.isArray(v)) {
      if (v.length === 0) return this.write('[]');
      v.forEach((item, i) => {
        if (i > 0 || ctx === 'mapvalue') this.writeIndent(indent);
        else if (ctx === 'root' && i > 0) this.writeIndent(indent);
        this.write('- ');
        this.node(item, indent + 2, 'seqitem');
      });
      return;
    }
    if (v !== null && typeof v === 'object') {
      const keys = Object.keys(v as object);
      if (keys.length === 0) return this.write('{}');
      keys.forEach((k, i) => {
        if (i > 0 || ctx === 'mapvalue') this.writeIndent(indent);
        this.scalar(k, indent, true);
        this.write(':');
        const val = (v as Record<string, unknown>)[k];
        if (Array.isArray(val) && val.length > 0) {
          this.node(val, indent, 'mapvalue');
        } else if (this.isCollection(val)) {
          this.node(val, indent + 2, 'mapvalue');
        } else {
          this.write(' ');
          this.scalarOrEmpty(val, indent + 2);
        }
      });
      return;
    }
    this.scalar(v, ctx === 'root' ? indent + 2 : indent, false);
  }

  scalarOrEmpty(v: unknown, indent: number): void {
    if (Array.isArray(v) || (v !== null && typeof v === 'object')) this.node(v, indent, 'seqitem');
    else this.scalar(v, indent, false);
  }
}

// v: plain JS produced from JSON (objects with sorted keys, arrays, numbers (ints as bigint), strings, bools, null)
export function goYamlMarshal(v: unknown): string {
  const e = new Emitter();
  e.node(v, 0, 'root');
  return e.out + '\n';
}

const letterRe = /^\p{L}$/u;
const digitRe = /^\p{Nd}$/u;

// go-yaml v2 key ordering (sorter.go keyList.Less for string keys)
export function goYamlKeyLess(a: string, b: string): boolean {
  const ar = [...a];
  const br = [...b];
  for (let i = 0; i < ar.length && i < br.length; i++) {
    if (ar[i] === br[i]) continue;
    const al = letterRe.test(ar[i]!);
    const bl = letterRe.test(br[i]!);
    if (al && bl) return ar[i]!.codePointAt(0)! < br[i]!.codePointAt(0)!;
    if (al || bl) return bl;
    let an = 0n;
    let bn = 0n;
    if (ar[i] === '0' || br[i] === '0') {
      for (let j = i - 1; j >= 0 && digitRe.test(ar[j]!); j--) {
        if (ar[j] !== '0') {
          an = 1n;
          bn = 1n;
          break;
        }
      }
    }
    let ai = i;
    let bi = i;
    for (; ai < ar.length && digitRe.test(ar[ai]!); ai++) an = an * 10n + BigInt(ar[ai]!.codePointAt(0)! - 48);
    for (; bi < br.length && digitRe.test(br[bi]!); bi++) bn = bn * 10n + BigInt(br[bi]!.codePointAt(0)! - 48);
    if (an !== bn) return an < bn;
    if (ai !== bi) return ai < bi;
    return ar[i]!.codePointAt(0)! < br[i]!.codePointAt(0)!;
  }
  return ar.length < br.length;
}

// JSON text -> plain JS the way yaml.v2 decodes JSON: integers -> bigint (int64/uint64), other numbers -> float
export function jsonToYamlValue(json: string): unknown {
  const conv = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(conv);
    if (v !== null && typeof v === 'object' && !(v instanceof NumText)) {
      const keys = Object.keys(v as object).sort((x, y) => (goYamlKeyLess(x, y) ? -1 : goYamlKeyLess(y, x) ? 1 : 0));
      const o: Record<string, unknown> = {};
      for (const k of keys) o[k] = conv((v as Record<string, unknown>)[k]);
      return o;
    }
    if (v instanceof NumText) {
      const t = v.text;
      if (/^-?[0-9]+$/.test(t)) {
        const b = BigInt(t);
        if (b >= -(1n << 63n) && b < 1n << 64n) return b;
      }
      return Number(t);
    }
    return v;
  };
  const raw = JSON.parse(json, (_k, v: unknown, ctx?: { source?: string }) => (typeof v === 'number' ? new NumText(ctx?.source ?? String(v)) : v)) as unknown;
  return conv(raw);
}

class NumText {
  readonly text: string;
  constructor(t: string) {
    this.text = t;
  }
}
