// Trimming '/' from tenant-written paths: same results as the RegExps it replaces, linear time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { trimSlashes, trimTrailingSlashes } from '../../../../src/providers/common/slashes.ts';
import { cpuMillis } from '../../../fixtures/cpu-time.ts';

test('trims like /^\\/+|\\/+$/g and /\\/+$/', () => {
  for (const s of ['', '/', '//', 'a', '/a/', '//a/b//', 'a/b', '/a//b/']) {
    assert.equal(trimSlashes(s), s.replace(/^\/+|\/+$/g, ''), s);
    assert.equal(trimTrailingSlashes(s), s.replace(/\/+$/, ''), s);
  }
});

test('a long run of slashes inside a path is linear (the RegExp took 11 s on 80,000)', () => {
  const path = `a${'/'.repeat(200_000)}a`;
  const ms = cpuMillis(() => {
    assert.equal(trimSlashes(path), path);
    assert.equal(trimTrailingSlashes(path), path);
  });
  assert.ok(ms < 200, `took ${ms.toFixed(0)} ms of CPU`);
});
