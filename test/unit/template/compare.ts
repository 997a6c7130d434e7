// Renders differential cases with Tessera's engine and compares with the Go reference results.

import { parseTemplate, esoData } from '../../../src/template/index.ts';
import type { DiffCase } from './cases.ts';
import type { RefResult } from './goref.ts';

export interface TsResult {
  output?: string; // base64
  error?: string;
}

export function renderTs(c: DiffCase): TsResult {
  try {
    const t = parseTemplate(c.name, c.template, { missingKey: c.missingKey ?? 'error', library: c.library ?? 'eso' });
    let data: unknown;
    if ((c.dataMode ?? 'eso') === 'eso') data = esoData((c.data ?? {}) as Record<string, string>);
    else data = c.data === undefined ? null : c.data;
    return { output: t.executeBytes(data).toString('base64') };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

export interface Mismatch {
  c: DiffCase;
  ts: TsResult;
  go: RefResult;
}

export function compare(c: DiffCase, ts: TsResult, go: RefResult): Mismatch | null {
  if (go.output !== undefined) {
    if (ts.output === go.output) return null;
    return { c, ts, go };
  }
  if (ts.error === undefined) return { c, ts, go };
  if ((c.errors ?? 'exact') === 'any') return null;
  if (ts.error === go.error) return null;
  return { c, ts, go };
}

export function describe(m: Mismatch): string {
  const dec = (b?: string): string => (b === undefined ? '-' : JSON.stringify(Buffer.from(b, 'base64').toString('utf8')));
  return [
    `case ${m.c.name}: ${JSON.stringify(m.c.template)}`,
    `  data: ${JSON.stringify(m.c.data)}${m.c.missingKey ? ' missingkey=' + m.c.missingKey : ''}`,
    `  go: ${m.go.error !== undefined ? 'ERROR ' + JSON.stringify(m.go.error) : dec(m.go.output)}`,
    `  ts: ${m.ts.error !== undefined ? 'ERROR ' + JSON.stringify(m.ts.error) : dec(m.ts.output)}`,
  ].join('\n');
}
