// Finding 2 and 3 of issue 9 offline: `tessera render` runs the same pure sync as the controller,
// so a ReDoS pattern or a template bomb in a manifest under review must not hang or kill it. Each
// run is a real `bin/tessera.js render` process with a hard timeout (a hang is a failure, not a
// stuck test run).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as YAML from 'yaml';

const root = new URL('../../../', import.meta.url).pathname;
const bin = join(root, 'bin/tessera.js');
const dir = mkdtempSync(join(tmpdir(), 'tessera-render-sec-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const EVIL = `${'a'.repeat(40)}b`;

interface Run { code: number | null; signal: string | null; stdout: string; stderr: string; ms: number; error?: string }

/** What went wrong with the process itself (a hang or a crash), for assertion messages. */
const fate = (r: Run, timeoutMs: number) =>
  r.signal === 'SIGKILL' && r.ms >= timeoutMs ? `hung: killed after ${r.ms} ms` : `died after ${r.ms} ms: signal ${r.signal}, code ${r.code}, ${r.error ?? ''} ${r.stderr.slice(-300)}`;

function render(name: string, spec: string, timeoutMs: number): Promise<Run> {
  writeFileSync(join(dir, `${name}.yaml`), `apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: ${name}, namespace: default}
spec:
  secretStoreRef: {name: store}
${spec}`);
  writeFileSync(join(dir, 'values.yaml'), YAML.stringify({ long: EVIL, keys: JSON.stringify({ [EVIL]: 'v1', aaaa: 'v2' }), k: 'v' }));
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, 'render', '-f', `${name}.yaml`, '--values', 'values.yaml', '--decode', '-o', 'json'],
      { cwd: dir, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1 << 24, env: { PATH: process.env.PATH, NODE_OPTIONS: '--max-old-space-size=150' } },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: number | string; signal?: string }) | null;
        resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, signal: e?.signal ?? null, stdout, stderr, ms: Math.round(performance.now() - t0), ...(e && typeof e.code !== 'number' ? { error: e.message.split('\n')[0] } : {}) });
      });
  });
}

const stringData = (r: Run) => (JSON.parse(r.stdout) as { stringData?: Record<string, string> }).stringData;

describe('tessera render under hostile manifests', () => {
  it('rewrite (a+)+$ on a 41-character key: RE2 semantics, no hang', async () => {
    const r = await render('rewrite', `  dataFrom:
  - extract: {key: keys}
    rewrite:
    - regexp: {source: "(a+)+$", target: x}
`, 10_000);
    assert.equal(r.signal, null, fate(r, 10_000));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(stringData(r), { [EVIL]: 'v1', x: 'v2' });
  });

  it('template regexMatch "^(a+)+$" on a 41-character value: false, no hang', async () => {
    const r = await render('regexmatch', `  data:
  - {secretKey: long, remoteRef: {key: long}}
  target:
    template:
      data: {out: '{{ regexMatch "^(a+)+$" .long }}'}
`, 10_000);
    assert.equal(r.signal, null, fate(r, 10_000));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(stringData(r), { out: 'false' });
  });

  for (const [name, template] of [
    ['seq', '{{ seq 1 100000000 | len }}'],
    ['repeat', '{{ repeat 100000000 "a" }}'],
    ['range', '{{ range $i := until 5000 }}{{ range $j := until 5000 }}{{ $i }}{{ end }}{{ end }}'],
  ] as const) {
    it(`${template}: exit 1 with "compute budget exceeded", no crash or hang`, async () => {
      const r = await render(name, `  data:
  - {secretKey: k, remoteRef: {key: k}}
  target:
    template:
      data: {out: '${template}'}
`, 30_000);
      assert.equal(r.signal, null, fate(r, 30_000));
      assert.equal(r.code, 1, fate(r, 30_000));
      assert.match(r.stderr, /compute budget exceeded/);
    });
  }
});
