// Differential test: every case is rendered by Tessera's engine and by the Go reference program
// (text/template + sprig v3, built on demand from test/template-ref) in one batched process call.
// Outputs must be byte-identical; when Go fails, Tessera must fail with the same error text
// (or just fail, for cases marked errors: 'any'). Known, documented differences are listed in
// docs/templates.md and in KNOWN_DIFFERENCES below.

process.env['TZ'] = 'UTC';

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cases } from './cases.ts';
import type { DiffCase } from './cases.ts';
import { generate } from './gen.ts';
import { runRef } from './goref.ts';
import { renderTs, compare, describe } from './compare.ts';

// Templates whose behaviour is knowingly different (see docs/templates.md).
const KNOWN_DIFFERENCES = new Set<string>([
  '{{ 1+2i }}', // complex constants are not supported
  '{{ regexFind "(?P<n>a)(?P<n>b)" "ab" }}', // RE2 refuses a repeated group name; Go accepts it
]);

const all: DiffCase[] = [...cases, ...generate(20240601, 250), ...generate(7, 150)];

test('differential: Tessera engine vs Go text/template + sprig', () => {
  const goResults = runRef(all);
  assert.equal(goResults.length, all.length);
  const failures: string[] = [];
  let known = 0;
  for (let i = 0; i < all.length; i++) {
    const c = all[i]!;
    const m = compare(c, renderTs(c), goResults[i]!);
    if (m === null) continue;
    if (KNOWN_DIFFERENCES.has(c.template)) {
      known++;
      continue;
    }
    failures.push(describe(m));
  }
  const passed = all.length - failures.length - known;
  console.log(`differential: ${passed} passed, ${failures.length} failed, ${known} known differences (of ${all.length})`);
  assert.ok(cases.length >= 400, `at least 400 hand-written differential cases (have ${cases.length})`);
  assert.deepEqual(failures, []);
});
