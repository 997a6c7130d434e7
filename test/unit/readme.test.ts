// README is the user's manual: every flag and every metric must be documented there.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { register } from 'prom-client';
import { runFlags } from '../../src/cli/run.ts';
import '../../src/kube/metrics.ts';
import '../../src/metrics/index.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('documents every flag of tessera run', () => {
    const missing = runFlags.filter((f) => !readme.includes(`--${f.name}`)).map((f) => f.name);
    assert.deepEqual(missing, []);
  });
  it('documents every metric', () => {
    const names = register.getMetricsAsArray().map((m) => m.name);
    assert.ok(names.length > 10);
    const missing = names.filter((n) => !readme.includes(`\`${n}\``));
    assert.deepEqual(missing, []);
  });
  it('gives the two one-line commands', () => {
    assert.ok(readme.includes('npm ci && npm run demo'));
    assert.ok(readme.includes('npm ci && npm test'));
  });
});
