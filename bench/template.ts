// Benchmark: Tessera's template engine vs the Go reference renderer (text/template + sprig).
// Run: node bench/template.ts   (builds the Go reference on demand, like the differential test)
// BENCH_ROUNDS=N sets the number of interleaved rounds (default 7).

import { parseTemplate, esoData } from '../src/template/index.ts';
import { runRef } from '../test/unit/template/goref.ts';
import type { RefCase } from '../test/unit/template/goref.ts';

interface Bench {
  name: string;
  template: string;
  data: Record<string, string>;
  n: number;
}

function fiftyKeys(): Bench {
  const data: Record<string, string> = {};
  const lines: string[] = [];
  for (let i = 0; i < 50; i++) {
    data[`key${i}`] = `secret-value-${i}-${'x'.repeat(i % 7)}`;
    const f = ['', ' | b64enc', ' | upper', ' | quote', ' | sha256sum'][i % 5];
    lines.push(`KEY_${i}={{ .key${i}${f} }}`);
  }
  return { name: '50-key template', template: lines.join('\n') + '\n', data, n: 3000 };
}

function configTemplate(): Bench {
  const data: Record<string, string> = {};
  for (let i = 0; i < 20; i++) data[`v${i}`] = `value ${i} with "quotes" & stuff`;
  data['json'] = JSON.stringify({ servers: Array.from({ length: 20 }, (_, i) => ({ name: `srv${i}`, port: 8000 + i })) });
  const lines: string[] = ['{{- $cfg := .json | fromJson }}'];
  for (let i = 0; i < 2000; i++) {
    switch (i % 8) {
      case 0: lines.push(`[section_${i}]`); break;
      case 1: lines.push(`name_${i} = {{ .v${i % 20} | quote }}`); break;
      case 2: lines.push(`{{- if eq .v${i % 20} "x" }}never{{ else }}enabled_${i} = true{{ end }}`); break;
      case 3: lines.push(`port_${i} = {{ add ${i} 1000 }}`); break;
      case 4: lines.push(`b64_${i} = {{ .v${i % 20} | b64enc }}`); break;
      case 5: lines.push(`{{- with $cfg.servers }}servers_${i} = {{ len . }}{{ end }}`); break;
      case 6: lines.push(`fmt_${i} = {{ printf "%s:%05d" .v${i % 20} ${i} }}`); break;
      default: lines.push(`# comment line ${i} {{/* template comment */}}`);
    }
  }
  return { name: '2,000-line config template', template: lines.join('\n') + '\n', data, n: 100 };
}

// The host may be busy (CI, other jobs): each side runs ROUNDS interleaved rounds, and the best
// round (least disturbed) and the median are reported. Tessera is warmed up first so the JIT has
// compiled the executor (Go needs no warm-up beyond the reference's own n/10 runs).
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 7);

function warmUp(b: Bench): void {
  const t = parseTemplate('bench', b.template);
  const data = esoData(b.data);
  const until = performance.now() + 500;
  while (performance.now() < until) t.execute(data);
}

function timeTs(b: Bench): number {
  const t = parseTemplate('bench', b.template);
  const data = esoData(b.data);
  const start = process.hrtime.bigint();
  for (let i = 0; i < b.n; i++) t.execute(data);
  return Number(process.hrtime.bigint() - start) / b.n;
}

function timeGo(b: Bench): number {
  const c: RefCase = { name: 'bench', template: b.template, data: b.data, dataMode: 'eso' };
  const [res] = runRef([c], 'bench', b.n);
  if (!res || res.nsPerOp === undefined) throw new Error(`Go bench failed: ${res?.error}`);
  return res.nsPerOp;
}

function timeParse(b: Bench): number {
  const n = Math.max(10, Math.floor(b.n / 10));
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) parseTemplate('bench', b.template);
  return Number(process.hrtime.bigint() - start) / n;
}

const fmt = (ns: number): string => (ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : `${(ns / 1e3).toFixed(1)} µs`);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const benches = [fiftyKeys(), configTemplate()];
for (const b of benches) {
  warmUp(b);
  const ts: number[] = [];
  const go: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    go.push(timeGo(b));
    ts.push(timeTs(b));
  }
  const parse = timeParse(b);
  const best = Math.min(...ts) / Math.min(...go);
  const mid = median(ts) / median(go);
  console.log(`${b.name}: tessera ${fmt(Math.min(...ts))}/render (median ${fmt(median(ts))}; parse ${fmt(parse)}), `
    + `go ${fmt(Math.min(...go))}/render (median ${fmt(median(go))}), ratio ${best.toFixed(2)}x best, ${mid.toFixed(2)}x median`);
}
