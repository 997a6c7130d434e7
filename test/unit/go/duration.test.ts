// src/go/duration.ts: Go's time.ParseDuration and Duration.String, the one copy used by the API
// (refreshInterval), the flags and the template functions. Expectations are Go's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DurationError, formatDurationNs, isValidDuration, parseDurationMs, parseDurationNs } from '../../../src/go/duration.ts';

const MIN_INT64 = -(1n << 63n);
const MAX_INT64 = (1n << 63n) - 1n;

test('parses Go durations', () => {
  const cases: Array<[string, bigint]> = [
    ['0', 0n], ['1h', 3_600_000_000_000n], ['1h30m', 5_400_000_000_000n], ['10s', 10_000_000_000n],
    ['1.5s', 1_500_000_000n], ['.5s', 500_000_000n], ['1.s', 1_000_000_000n], ['300ms', 300_000_000n],
    ['2us', 2_000n], ['2µs', 2_000n], ['2μs', 2_000n], ['7ns', 7n], ['1h1m1s1ms', 3_661_001_000_000n],
    ['-1s', -1_000_000_000n], ['+1s', 1_000_000_000n], ['0s', 0n], ['-0', 0n], ['1.0000000001s', 1_000_000_000n],
    ['0.1h', 360_000_000_000n], ['1.1us', 1_100n], ['1.9ns', 1n],
    ['2562047h47m16.854775807s', MAX_INT64], ['9223372036854775807ns', MAX_INT64],
    ['1.00000000000000000000000000001s', 1_000_000_000n],
  ];
  for (const [input, ns] of cases) assert.equal(parseDurationNs(input), ns, input);
  assert.equal(parseDurationMs('1m'), 60_000);
});

test('the smallest int64 parses when negative (copies disagreed: the template parser refused it)', () => {
  assert.equal(parseDurationNs('-9223372036854775808ns'), MIN_INT64);
  assert.equal(parseDurationNs('-2562047h47m16.854775808s'), MIN_INT64);
  assert.equal(isValidDuration('9223372036854775808ns'), false, 'one more than int64 when positive');
});

test('refuses what Go refuses, with Go\'s messages', () => {
  for (const bad of ['', '1', '1x', 'h', '.s', '-.s', '1hh', ' 1h', '1h ', '1.2.3s', '-', '+', '1d', '9999999999999h', '1h-1m', '99999999999999999999ns', '2562048h']) {
    assert.equal(isValidDuration(bad), false, JSON.stringify(bad));
  }
  assert.throws(() => parseDurationNs('10'), (e: Error) => e instanceof DurationError && e.message === 'time: missing unit in duration "10"');
  assert.throws(() => parseDurationNs('10d'), { message: 'time: unknown unit "d" in duration "10d"' });
  assert.throws(() => parseDurationNs('x'), { message: 'time: invalid duration "x"' });
});

test('error texts quote as Go\'s time package: non-ASCII and control bytes as \\xNN', () => {
  assert.throws(() => parseDurationNs('5µm'), { message: 'time: unknown unit "\\xc2\\xb5m" in duration "5\\xc2\\xb5m"' });
  assert.throws(() => parseDurationNs('1"h'), { message: 'time: unknown unit "\\"h" in duration "1\\"h"' });
  assert.throws(() => parseDurationNs('\n'), { message: 'time: invalid duration "\\x0a"' });
});

test('formats like Go Duration.String', () => {
  const cases: Array<[bigint, string]> = [
    [0n, '0s'], [3_600_000_000_000n, '1h0m0s'], [5_400_000_000_000n, '1h30m0s'], [1_500_000_000n, '1.5s'],
    [300_000_000n, '300ms'], [2_000n, '2µs'], [1_100n, '1.1µs'], [7n, '7ns'], [-1_000_000_000n, '-1s'], [61_000_000_000n, '1m1s'],
    [MAX_INT64, '2562047h47m16.854775807s'], [MIN_INT64, '-2562047h47m16.854775808s'], [-1n, '-1ns'],
  ];
  for (const [ns, text] of cases) assert.equal(formatDurationNs(ns), text);
});

test('format and parse round-trip', () => {
  for (const ns of [1n, 999n, 1_000n, 1_234_567n, 59_999_999_999n, 86_400_000_000_001n, MAX_INT64, MIN_INT64]) {
    assert.equal(parseDurationNs(formatDurationNs(ns)), ns);
  }
});

test('parseDurationMs answers the same from its memory of recent strings, and an invalid one throws every time', () => {
  for (let i = 0; i < 3; i++) {
    assert.equal(parseDurationMs('1h30m'), 5_400_000);
    assert.throws(() => parseDurationMs('1 hour'), DurationError);
  }
  // More distinct strings than it remembers, then the first again: still right.
  for (let i = 1; i <= 300; i++) assert.equal(parseDurationMs(`${i}s`), i * 1000);
  assert.equal(parseDurationMs('1h30m'), 5_400_000);
  const long = '1ns'.repeat(40);
  assert.equal(parseDurationMs(long), 40 / 1e6);
});
