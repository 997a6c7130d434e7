// spec.syncWindows: the cron parser (robfig/cron's five fields and descriptors, as ESO reads them)
// and the window math, with ESO's own cases (pkg/controllers/externalsecret/syncwindow_test.go)
// plus the delays a postponed refresh is requeued with.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CronError, MAX_SCHEDULE_LENGTH, nextFiring, parseCron, windowActive } from '../../../src/sync/cron.ts';
import { parseSyncWindows, postponedFor, refreshAllowed, RECHECK_MS, SyncWindowError } from '../../../src/sync/sync-windows.ts';

const at = (iso: string) => Date.parse(iso);
const next = (schedule: string, after: string) => {
  const t = nextFiring(parseCron(schedule), at(after));
  return t === undefined ? undefined : new Date(t).toISOString();
};

describe('cron: next firing (UTC, strictly after)', () => {
  test('fields, ranges, steps, lists and names', () => {
    assert.equal(next('0 22 * * *', '2026-06-01T21:00:00Z'), '2026-06-01T22:00:00.000Z');
    assert.equal(next('0 22 * * *', '2026-06-01T22:00:00Z'), '2026-06-02T22:00:00.000Z', 'strictly after');
    assert.equal(next('*/15 * * * *', '2026-06-01T10:07:30Z'), '2026-06-01T10:15:00.000Z');
    assert.equal(next('5/20 * * * *', '2026-06-01T10:26:00Z'), '2026-06-01T10:45:00.000Z', 'a/step is a-max/step');
    assert.equal(next('0 9-17/4 * * *', '2026-06-01T13:30:00Z'), '2026-06-01T17:00:00.000Z');
    assert.equal(next('0 0 * * MON,fri', '2026-06-02T00:00:00Z'), '2026-06-05T00:00:00.000Z', '2026-06-02 is a Tuesday');
    assert.equal(next('0 0 1 JAN *', '2026-06-01T00:00:00Z'), '2027-01-01T00:00:00.000Z');
    assert.equal(next('30 * * * *', '2026-12-31T23:45:00Z'), '2027-01-01T00:30:00.000Z');
  });

  test('day of month and day of week: either matches unless one of them is a star', () => {
    // 13th or a Friday (robfig: both restricted, so OR).
    assert.equal(next('0 0 13 * 5', '2026-06-01T00:00:00Z'), '2026-06-05T00:00:00.000Z');
    // Any day of the month, Fridays only (a star: AND).
    assert.equal(next('0 0 * * 5', '2026-06-06T00:00:00Z'), '2026-06-12T00:00:00.000Z');
    assert.equal(next('0 0 ? * 5', '2026-06-06T00:00:00Z'), '2026-06-12T00:00:00.000Z');
  });

  test('descriptors and @every', () => {
    assert.equal(next('@daily', '2026-06-01T12:00:00Z'), '2026-06-02T00:00:00.000Z');
    assert.equal(next('@hourly', '2026-06-01T12:00:00Z'), '2026-06-01T13:00:00.000Z');
    assert.equal(next('@weekly', '2026-06-01T12:00:00Z'), '2026-06-07T00:00:00.000Z', 'Sundays');
    assert.equal(next('@monthly', '2026-06-01T12:00:00Z'), '2026-07-01T00:00:00.000Z');
    assert.equal(next('@yearly', '2026-06-01T12:00:00Z'), '2027-01-01T00:00:00.000Z');
    assert.equal(next('@every 90s', '2026-06-01T12:00:00.700Z'), '2026-06-01T12:01:30.000Z', 'from the whole second asked about');
  });

  test('no firing within five years: undefined, after a bounded search', () => {
    const t0 = performance.now();
    assert.equal(next('0 0 30 2 *', '2026-06-01T00:00:00Z'), undefined);
    assert.ok(performance.now() - t0 < 500);
  });

  test('malformed schedules name what is wrong', () => {
    const cases: Array<[string, RegExp]> = [
      ['0 22 * *', /expected exactly 5 fields/],
      ['60 * * * *', /minute: 60 is above the maximum 59/],
      ['0 24 * * *', /hour: 24 is above the maximum 23/],
      ['0 0 0 * *', /day-of-month: 0 is below the minimum 1/],
      ['0 0 * 13 *', /month: 13 is above the maximum 12/],
      ['0 0 * * 7', /day-of-week: 7 is above the maximum 6/],
      ['0 0 * * funday', /day-of-week: "funday" is not a number or a name/],
      ['5-1 * * * *', /minute: range start 5 is beyond its end 1/],
      ['*/0 * * * *', /minute: the step must be a positive number/],
      ['1-2-3 * * * *', /minute: too many hyphens/],
      ['*/2/3 * * * *', /minute: too many slashes/],
      ['@fortnightly', /unknown descriptor/],
      ['@every soon', /@every: /],
      ['', /empty schedule/],
      [`${'1,'.repeat(MAX_SCHEDULE_LENGTH)}1 * * * *`, /longer than 128 characters/],
    ];
    for (const [schedule, message] of cases) assert.throws(() => parseCron(schedule), (e: unknown) => e instanceof CronError && message.test(e.message), schedule);
  });
});

describe('a window: [firing, firing + duration], both ends included (ESO TestIsWithinSyncWindow)', () => {
  const daily22 = parseCron('0 22 * * *');
  const twoHours = 2 * 3600_000;
  const cases: Array<[string, string, boolean]> = [
    ['at window open (inclusive)', '2026-06-01T22:00:00Z', true],
    ['inside window', '2026-06-01T22:30:00Z', true],
    ['at window close (inclusive)', '2026-06-02T00:00:00Z', true],
    ['one second past window close', '2026-06-02T00:00:01Z', false],
    ['one hour before window opens', '2026-06-01T21:00:00Z', false],
    ['between two consecutive occurrences', '2026-06-02T03:00:00Z', false],
    ['inside the second occurrence (next day)', '2026-06-02T22:30:00Z', true],
  ];
  for (const [name, when, open] of cases) test(name, () => assert.equal(windowActive(daily22, twoHours, at(when)), open));
});

describe('spec.syncWindows', () => {
  const windows = (kind: 'allow' | 'deny', ...entries: Array<[string, string]>) =>
    parseSyncWindows({ kind, windows: entries.map(([schedule, duration]) => ({ schedule, duration })) })!;
  const inWindow = at('2026-06-01T23:00:00Z');
  const outWindow = at('2026-06-01T20:00:00Z');

  test('absent or empty: no restriction', () => {
    assert.equal(parseSyncWindows(undefined), undefined);
    assert.equal(parseSyncWindows({ kind: 'allow', windows: [] }), undefined);
  });

  test('allow: only inside a window; postponed until the next opening', () => {
    const sw = windows('allow', ['0 22 * * *', '2h']);
    assert.equal(refreshAllowed(sw, inWindow), true);
    assert.equal(refreshAllowed(sw, outWindow), false);
    assert.equal(postponedFor(sw, inWindow), undefined);
    assert.equal(postponedFor(sw, at('2026-06-01T21:30:00Z')), 30 * 60_000);
    // Opening in more than an hour: asked again after an hour (a spec change or a restart may come first).
    assert.equal(postponedFor(sw, outWindow), RECHECK_MS);
  });

  test('allow: the earliest opening of several windows', () => {
    const sw = windows('allow', ['0 22 * * *', '2h'], ['30 20 * * *', '10m'], ['0 21 * * *', '1m']);
    assert.equal(postponedFor(sw, outWindow), 30 * 60_000);
    assert.equal(refreshAllowed(sw, at('2026-06-01T20:35:00Z')), true);
  });

  test('deny: never inside a window; postponed until a second after the last open one closes', () => {
    const sw = windows('deny', ['0 22 * * *', '1h30m'], ['0 23 * * *', '40m']);
    assert.equal(refreshAllowed(sw, outWindow), true);
    assert.equal(postponedFor(sw, outWindow), undefined);
    assert.equal(refreshAllowed(sw, inWindow), false);
    // 23:00 is inside both: the first closes at 23:30, the second at 23:40.
    assert.equal(postponedFor(sw, inWindow), 40 * 60_000 + 1000);
    // Longer than an hour away: asked again after an hour.
    assert.equal(postponedFor(windows('deny', ['0 22 * * *', '3h']), inWindow), RECHECK_MS);
  });

  test('deny with back-to-back windows: stepped over up to a bound, then asked again', () => {
    const sw = windows('deny', ['* * * * *', '2m']);
    assert.equal(refreshAllowed(sw, inWindow), false);
    const delay = postponedFor(sw, inWindow)!;
    assert.ok(delay >= 1000 && delay <= RECHECK_MS);
  });

  test('an unreadable schedule or duration names the field (ESO ignores the window silently)', () => {
    assert.throws(() => windows('allow', ['0 22 * * *', '2h'], ['a b c d e', '1h']),
      (e: unknown) => e instanceof SyncWindowError && e.field === 'spec.syncWindows.windows[1].schedule' && /minute: "a" is not a number/.test(e.message));
    assert.throws(() => windows('deny', ['0 22 * * *', 'two hours']),
      (e: unknown) => e instanceof SyncWindowError && e.field === 'spec.syncWindows.windows[0].duration');
  });
});
