// Masterminds/semver v3 (subset): NewVersion, Version methods, constraint checking.

import { GoStruct, TypedInt } from '../values.ts';
import type { GoFunc } from '../values.ts';
import { GoError } from '../exec.ts';
import { compile, findAllString, findStringSubmatch, matchString, replaceAllStringSubmatchFunc } from '../../go/regexp.ts';

interface Ver { major: bigint; minor: bigint; patch: bigint; pre: string; meta: string; original: string }

// Masterminds/semver's regexps, run on RE2 as in Go: the versions and constraints come from
// templates, and with JS's backtracking RegExp the constraint check took minutes on a constraint
// of a few thousand spaces.
const verRe = compile(String.raw`^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?(\+([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?$`);

export function parseVersion(v: string): Ver {
  const m = findStringSubmatch(verRe, v);
  if (!m) throw new GoError('Invalid Semantic Version');
  const num = (s: string | undefined): bigint => {
    if (s === undefined) return 0n;
    const b = BigInt(s.replace(/^\./, ''));
    if (b > 0xffffffffffffffffn) throw new GoError('Invalid Semantic Version');
    return b;
  };
  const pre = m[5] ?? '';
  for (const p of pre.split('.')) {
    if (p !== '' && /^[0-9]+$/.test(p) && p.length > 1 && p[0] === '0') throw new GoError('Version segment starts with 0');
  }
  return { major: num(m[1]), minor: num(m[2]), patch: num(m[3]), pre, meta: m[8] ?? '', original: v };
}

function verString(v: Ver): string {
  return `${v.major}.${v.minor}.${v.patch}` + (v.pre ? '-' + v.pre : '') + (v.meta ? '+' + v.meta : '');
}

function comparePre(a: string, b: string): number {
  if (a === b) return 0;
  if (a === '') return 1;
  if (b === '') return -1;
  const as = a.split('.');
  const bs = b.split('.');
  for (let i = 0; i < Math.max(as.length, bs.length); i++) {
    const x = as[i];
    const y = bs[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    const xn = /^[0-9]+$/.test(x);
    const yn = /^[0-9]+$/.test(y);
    if (xn && yn) return BigInt(x) < BigInt(y) ? -1 : 1;
    if (xn) return -1;
    if (yn) return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

export function compareVer(a: Ver, b: Ver): number {
  for (const k of ['major', 'minor', 'patch'] as const) {
    if (a[k] !== b[k]) return a[k] < b[k] ? -1 : 1;
  }
  return comparePre(a.pre, b.pre);
}

interface Con { op: string; con: Ver; minorDirty: boolean; patchDirty: boolean; dirty: boolean }

const isX = (s: string | undefined): boolean => s === 'x' || s === 'X' || s === '*';
const cv = String.raw`v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?`;
const ops = String.raw`=||!=|>|<|>=|=>|<=|=<|~|~>|\^`;
const opsAlt = ops.split('|').map((o) => o.replace(/[=<>!~]/g, (c) => c)).sort((a, b) => b.length - a.length).join('|');
const conRe = compile(`^\\s*(${opsAlt})\\s*(${cv})\\s*$`);
const findRe = compile(`(${opsAlt})\\s*(${cv})`);
const validRe = compile(`^(\\s*(${opsAlt})\\s*(${cv})\\s*)((?:\\s+|,\\s*)(${opsAlt})\\s*(${cv})\\s*)*$`);
const rangeRe = compile(`\\s*(${cv})\\s+-\\s+(${cv})\\s*`);

function parseCon(c: string): Con {
  const m = findStringSubmatch(conRe, c);
  if (!m) throw new GoError(`improper constraint: ${c}`);
  const op = m[1]!;
  const p1 = m[3], p2 = m[4], p3 = m[5], pre = m[6] ?? '';
  let ver = m[2]!;
  let minorDirty = false, patchDirty = false, dirty = false;
  if (isX(p1) || p1 === '' || p1 === undefined) {
    ver = `0.0.0${pre}`;
    dirty = true;
  } else if (isX(p2?.replace(/^\./, '')) || !p2) {
    minorDirty = dirty = true;
    ver = `${p1}.0.0${pre}`;
  } else if (isX(p3?.replace(/^\./, '')) || !p3) {
    dirty = patchDirty = true;
    ver = `${p1}${p2}.0${pre}`;
  }
  return { op, con: parseVersion(ver), minorDirty, patchDirty, dirty };
}

function check(v: Ver, c: Con): boolean {
  const lt = compareVer(v, c.con) < 0;
  const eq = compareVer(v, c.con) === 0;
  const preBlock = v.pre !== '' && c.con.pre === '';
  const tilde = (): boolean => {
    if (preBlock || lt) return false;
    if (c.con.major === 0n && c.con.minor === 0n && c.con.patch === 0n && !c.minorDirty && !c.patchDirty) return true;
    if (v.major !== c.con.major) return false;
    if (v.minor !== c.con.minor && !c.minorDirty) return false;
    return true;
  };
  switch (c.op) {
    case '': case '=':
      if (preBlock) return false;
      if (c.dirty) return tilde();
      return eq;
    case '!=':
      if (preBlock) return false;
      if (c.dirty) {
        if (v.major !== c.con.major) return true;
        if (v.minor !== c.con.minor && !c.minorDirty) return true;
        if (c.minorDirty) return false;
        if (v.patch !== c.con.patch && !c.patchDirty) return true;
        return !c.patchDirty && v.patch !== c.con.patch;
      }
      return !eq;
    case '>':
      if (preBlock) return false;
      if (!c.dirty) return compareVer(v, c.con) > 0;
      if (v.major > c.con.major) return true;
      if (v.major < c.con.major) return false;
      if (c.minorDirty) return false;
      if (c.patchDirty) return v.minor > c.con.minor;
      return compareVer(v, c.con) > 0;
    case '<':
      if (preBlock) return false;
      return lt;
    case '>=': case '=>':
      if (preBlock) return false;
      return !lt;
    case '<=': case '=<':
      if (preBlock) return false;
      if (!c.dirty) return compareVer(v, c.con) <= 0;
      if (v.major > c.con.major) return false;
      if (v.major === c.con.major && v.minor > c.con.minor && !c.minorDirty) return false;
      return true;
    case '~': case '~>':
      return tilde();
    case '^': {
      if (preBlock || lt) return false;
      if (c.con.major > 0n || c.minorDirty) return v.major === c.con.major;
      if (c.con.major === 0n && v.major > 0n) return false;
      if (c.con.minor > 0n || c.patchDirty) return v.minor === c.con.minor;
      if (c.con.minor === 0n && v.minor > 0n) return false;
      return v.patch === c.con.patch;
    }
  }
  return false;
}

export function semverCompare(constraint: string, version: string): boolean {
  const c = replaceAllStringSubmatchFunc(rangeRe, constraint, (g) => ` >= ${g[1]}, <= ${g[11]} `);
  const ors = c.split('||').map((seg) => {
    if (!matchString(validRe, seg)) throw new GoError(`improper constraint: ${seg}`);
    const cs = findAllString(findRe, seg, -1) ?? [seg];
    return cs.map(parseCon);
  });
  const v = parseVersion(version);
  return ors.some((and) => and.every((con) => check(v, con)));
}

function versionStruct(v: Ver): GoStruct {
  const u64 = (x: bigint): TypedInt => new TypedInt('uint64', x);
  const methods = new Map<string, GoFunc>([
    ['Major', { params: [], fn: () => u64(v.major) }],
    ['Minor', { params: [], fn: () => u64(v.minor) }],
    ['Patch', { params: [], fn: () => u64(v.patch) }],
    ['Prerelease', { params: [], fn: () => v.pre }],
    ['Metadata', { params: [], fn: () => v.meta }],
    ['Original', { params: [], fn: () => v.original }],
    ['String', { params: [], fn: () => verString(v) }],
  ]);
  const fields = new Map<string, unknown>([['major', u64(v.major)], ['minor', u64(v.minor)], ['patch', u64(v.patch)], ['pre', v.pre], ['metadata', v.meta], ['original', v.original]]);
  const s = new GoStruct('semver.Version', fields, methods, true, () => verString(v));
  methods.set('Compare', { params: ['*semver.Version'], fn: (o: GoStruct) => BigInt(compareVer(v, parseVersion(o.fields.get('original') as string))) });
  methods.set('GreaterThan', { params: ['*semver.Version'], fn: (o: GoStruct) => compareVer(v, parseVersion(o.fields.get('original') as string)) > 0 });
  methods.set('LessThan', { params: ['*semver.Version'], fn: (o: GoStruct) => compareVer(v, parseVersion(o.fields.get('original') as string)) < 0 });
  methods.set('Equal', { params: ['*semver.Version'], fn: (o: GoStruct) => compareVer(v, parseVersion(o.fields.get('original') as string)) === 0 });
  return s;
}

export function semverFuncs(): Map<string, GoFunc> {
  return new Map<string, GoFunc>([
    ['semver', { params: ['string'], fn: (s: string) => versionStruct(parseVersion(s)) }],
    ['semverCompare', { params: ['string', 'string'], fn: semverCompare }],
  ]);
}
