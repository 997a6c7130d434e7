// Builds (on demand, cached) and runs the Go reference renderer in test/template-ref.

import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const refDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'template-ref');

export interface RefCase {
  name: string;
  template: string;
  data?: unknown;
  dataMode?: 'eso' | 'json';
  missingKey?: 'error' | 'default' | 'zero';
  library?: 'eso' | 'none';
}

export interface RefResult {
  output?: string; // base64 of the rendered bytes
  error?: string;
  nsPerOp?: number;
}

function findGo(): string {
  const candidates = [process.env['GO'], 'go', '/usr/local/go/bin/go'].filter((x): x is string => !!x);
  for (const c of candidates) {
    const r = spawnSync(c, ['version'], { encoding: 'utf8' });
    if (r.status === 0) return c;
  }
  throw new Error('Go toolchain not found (needed to build test/template-ref); install Go >= 1.26 or set $GO');
}

export function refBinary(): string {
  const h = createHash('sha256');
  const files = ['go.mod', 'go.sum', ...readdirSync(refDir).filter((f) => f.endsWith('.go')).sort()];
  for (const f of files) h.update(f).update(readFileSync(join(refDir, f)));
  const hash = h.digest('hex').slice(0, 16);
  const cache = process.env['TESSERA_CACHE'] || join(homedir(), '.cache', 'tessera');
  const dir = join(cache, `template-ref-${hash}`);
  const bin = join(dir, 'template-ref');
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const go = findGo();
  const tmp = `${bin}.tmp${process.pid}`;
  execFileSync(go, ['build', '-o', tmp, '.'], {
    cwd: refDir,
    env: { ...process.env, GOFLAGS: '-mod=mod', CGO_ENABLED: '0' },
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 300_000,
  });
  renameSync(tmp, bin);
  return bin;
}

export function runRef(cases: RefCase[], mode: 'run' | 'bench' = 'run', n = 0): RefResult[] {
  const bin = refBinary();
  const input = JSON.stringify({ mode, cases, n });
  const out = execFileSync(bin, [], { input, maxBuffer: 1 << 30, env: { ...process.env, TZ: process.env['TZ'] ?? 'UTC' } });
  return JSON.parse(out.toString('utf8')) as RefResult[];
}
