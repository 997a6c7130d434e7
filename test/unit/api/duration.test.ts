import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_TIMER_MS, isValidDuration, parseDurationMs, timerDelayMs } from '../../../src/api/duration.ts';
import { DURATION_PATTERN } from '../../../src/api/schema.ts';

// Parsing and printing are Go's, tested in test/unit/go/duration.test.ts; this file tests what the
// API layer adds: the CRD pattern and the bridge to Node timers.
test('the CRD pattern accepts exactly the unsigned Go durations', () => {
  const re = new RegExp(DURATION_PATTERN, 'u');
  for (const ok of ['0', '1h', '1h30m', '10s', '1.5s', '.5s', '1.s', '2µs', '2μs', '300ms', '0s']) {
    assert.ok(re.test(ok), ok);
    assert.ok(isValidDuration(ok), ok);
  }
  for (const bad of ['', '1', '1x', '-1s', '1d', 'h', '.s', ' 1h']) assert.equal(re.test(bad), false, bad);
});

test('timerDelayMs clamps at Node\'s timer limit and never returns a delay that fires at once', () => {
  {
    assert.equal(MAX_TIMER_MS, 2 ** 31 - 1);
    assert.equal(timerDelayMs(2 ** 31 - 1), 2 ** 31 - 1);
    assert.equal(timerDelayMs(2 ** 31), MAX_TIMER_MS);
    assert.equal(timerDelayMs(parseDurationMs('597h')), MAX_TIMER_MS, '597 h is past the limit');
    assert.equal(timerDelayMs(parseDurationMs('2562047h47m16.854775807s')), MAX_TIMER_MS, 'the largest Go duration');
    assert.equal(timerDelayMs(2_147_484 * 1000), MAX_TIMER_MS, 'a store refreshInterval of 2,147,484 s');
    assert.equal(timerDelayMs(Number.MAX_VALUE), MAX_TIMER_MS);
    assert.equal(timerDelayMs(Infinity), MAX_TIMER_MS);
    assert.equal(timerDelayMs(NaN), MAX_TIMER_MS, 'NaN means later, not now');
    assert.equal(timerDelayMs(-5), 0);
    assert.equal(timerDelayMs(1500), 1500);
  }
});
