// Runs the Go reference of ESO's content hashes (main.go, standard library only) on a list of cases.
import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HashCase } from './cases.ts';

export const refDir = dirname(fileURLToPath(import.meta.url));

/** The Go toolchain, or undefined when none is installed. */
export function findGo(): string | undefined {
  for (const c of [process.env['GO'], 'go', '/usr/local/go/bin/go'].filter((x): x is string => !!x)) {
    if (spawnSync(c, ['version'], { encoding: 'utf8' }).status === 0) return c;
  }
  return undefined;
}

export function goHashes(cases: HashCase[], go = findGo()): string[] {
  if (!go) throw new Error('Go toolchain not found (needed for test/eso-hash-ref); install Go >= 1.26 or set $GO');
  const input = JSON.stringify(cases.map(({ data, meta, text }) => (meta ? { meta } : text !== undefined ? { text } : { data })));
  const r = spawnSync(go, ['run', '.'], { cwd: refDir, input, encoding: 'utf8', maxBuffer: 1 << 28, timeout: 300_000, env: { ...process.env, CGO_ENABLED: '0' } });
  if (r.status !== 0) throw new Error(`go run failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as string[];
}
