// Seeded random template/data generator for differential testing.

import type { DiffCase } from './cases.ts';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const words = ['', 'a', 'abc', 'Hello World', 'x-y_z', '  pad  ', 'héllo', '日本語', '42', '-7', '3.5', '0', 'true', 'a,b,c', 'line1\nline2', 'p@ss:w/rd?&=', '"quoted"', "it's", '<tag>', 'CamelCaseWord', 'snake_case_word', 'YQ==', 'aGVsbG8=', '1e3', ' ', '\t'];
const strFuncs1 = ['upper', 'lower', 'title', 'trim', 'quote', 'squote', 'b64enc', 'b64dec', 'b32enc', 'sha256sum', 'sha1sum', 'adler32sum', 'len', 'snakecase', 'camelcase', 'kebabcase', 'swapcase', 'initials', 'nospace', 'untitle', 'toString', 'html', 'js', 'urlquery', 'atoi', 'int', 'int64', 'float64', 'toJson', 'empty', 'regexQuoteMeta', 'base', 'dir', 'clean', 'ext', 'print', 'toStrings', 'fromJson', 'kindOf', 'typeOf'];
const strFuncs2 = ['trimPrefix', 'trimSuffix', 'trimAll', 'contains', 'hasPrefix', 'hasSuffix', 'splitList', 'regexMatch', 'regexFind', 'cat', 'default', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'and', 'or', 'list', 'dict', 'printf'];
const intFuncs = ['trunc', 'abbrev', 'repeat', 'indent', 'nindent', 'wrap'];
const verbs = ['%v', '%s', '%q', '%d', '%x', '%5s', '%-6v|', '%.2f', '%06.2f', '%+d', '%t', '%T', '%08b', '%e', '%g', '%X', '%c', '%10.3q'];
const numLits = ['0', '1', '-1', '2', '3', '10', '255', '1.5', '-0.25', '1e3', '0x1F', "'a'"];

export function generate(seed: number, count: number): DiffCase[] {
  const rnd = mulberry32(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const out: DiffCase[] = [];
  for (let k = 0; k < count; k++) {
    const data: Record<string, string> = {};
    const nkeys = 1 + Math.floor(rnd() * 5);
    const keys: string[] = [];
    for (let i = 0; i < nkeys; i++) {
      const key = pick(['user', 'pass', 'host', 'k1', 'k2', 'token', 'num', 'csv', 'v']) + (rnd() < 0.3 ? String(i) : '');
      data[key] = pick(words);
      keys.push(key);
    }
    const strExpr = (depth: number): string => {
      const r = rnd();
      if (r < 0.35 || depth > 2) return rnd() < 0.85 ? '.' + pick(keys) : JSON.stringify(pick(words));
      if (r < 0.6) return `(${pick(strFuncs1)} ${strExpr(depth + 1)})`;
      if (r < 0.75) return `(${pick(strFuncs2)} ${strExpr(depth + 1)} ${strExpr(depth + 1)})`;
      if (r < 0.85) return `(${pick(intFuncs)} ${pick(numLits.slice(0, 7))} ${strExpr(depth + 1)})`;
      if (r < 0.93) return `(printf ${JSON.stringify(pick(verbs) + ' ' + pick(verbs))} ${strExpr(depth + 1)} ${rnd() < 0.5 ? pick(numLits) : strExpr(depth + 1)})`;
      return `(${pick(['add', 'sub', 'mul', 'max', 'min', 'addf', 'mulf', 'subf'])} ${pick(numLits)} ${rnd() < 0.5 ? pick(numLits) : strExpr(depth + 1)})`;
    };
    const action = (depth: number): string => {
      const r = rnd();
      const trimL = rnd() < 0.2 ? '- ' : ' ';
      const trimR = rnd() < 0.2 ? ' -' : ' ';
      if (r < 0.45 || depth > 1) {
        const pipe = rnd() < 0.4 ? `${strExpr(0)} | ${pick(strFuncs1)}` : strExpr(0);
        return `{{${trimL}${pipe}${trimR}}}`;
      }
      if (r < 0.6) return `{{${trimL}if ${strExpr(0)}${trimR}}}T${body(depth + 1)}{{ else }}F{{ end }}`;
      if (r < 0.7) return `{{ with ${strExpr(0)} }}[{{ . }}]{{ else }}none{{ end }}`;
      if (r < 0.8) return `{{ range $i, $v := splitList "," ${strExpr(0)} }}{{ $i }}:{{ $v }};{{ end }}`;
      if (r < 0.87) return `{{ $x := ${strExpr(0)} }}{{ $x }}-{{ $x | ${pick(strFuncs1)} }}`;
      if (r < 0.93) return `{{ range $k, $v := . }}{{ $k }}={{ $v | ${pick(strFuncs1)} }} {{ end }}`;
      return `{{ if ${pick(['eq', 'ne', 'lt', 'gt'])} ${strExpr(0)} ${rnd() < 0.5 ? strExpr(0) : pick(numLits)} }}yes{{ end }}`;
    };
    const body = (depth: number): string => {
      const parts: string[] = [];
      const np = 1 + Math.floor(rnd() * 3);
      for (let i = 0; i < np; i++) parts.push(rnd() < 0.3 ? pick(['\n', ' ', 'txt ', '  \n  ', '=']) : action(depth));
      return parts.join('');
    };
    out.push({ name: `gen${seed}_${k}`, template: body(0), data, dataMode: 'eso' });
  }
  return out;
}
