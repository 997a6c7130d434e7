import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_TIMER_MS, formatDurationNs, isValidDuration, parseDurationMs, parseDurationNs, timerDelayMs } from '../../../src/api/duration.ts';
import { DURATION_PATTERN } from '../../../src/api/schema.ts';

test('parses Go durations', () => {
  const cases: Array<[string, bigint]> = [
    ['0', 0n], ['1h', 3_600_000_000_000n], ['1h30m', 5_400_000_000_000n], ['10s', 10_000_000_000n],
    ['1.5s', 1_500_000_000n], ['.5s', 500_000_000n], ['1.s', 1_000_000_000n], ['300ms', 300_000_000n],
    ['2us', 2_000n], ['2µs', 2_000n], ['2μs', 2_000n], ['7ns', 7n], ['1h1m1s1ms', 3_661_001_000_000n],
    ['-1s', -1_000_000_000n], ['+1s', 1_000_000_000n], ['0s', 0n], ['1.0000000001s', 1_000_000_000n],
  ];
  for (const [input, ns] of cases) assert.equal(parseDurationNs(input), ns, input);
  assert.equal(parseDurationMs('1m'), 60_000);
});

test('refuses what Go refuses', () => {
  for (const bad of ['', '1', '1x', 'h', '.s', '1hh', ' 1h', '1h ', '1.2.3s', '-', '1d', '9999999999999h']) {
    assert.equal(isValidDuration(bad), false, JSON.stringify(bad));
  }
  assert.throws(() => parseDurationNs('10'), /missing unit/);
  assert.throws(() => parseDurationNs('10d'), /unknown unit "d"/);
});

test('formats like Go Duration.String', () => {
  const cases: Array<[bigint, string]> = [
    [0n, '0s'], [3_600_000_000_000n, '1h0m0s'], [5_400_000_000_000n, '1h30m0s'], [1_500_000_000n, '1.5s'],
    [300_000_000n, '300ms'], [2_000n, '2µs'], [7n, '7ns'], [-1_000_000_000n, '-1s'], [61_000_000_000n, '1m1s'],
  ];
  for (const [ns, text] of cases) assert.equal(formatDurationNs(ns), text);
});

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
