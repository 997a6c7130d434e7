import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nextRefreshDelay, refreshDue, type RefreshState } from '../../../src/controllers/refresh.ts';

const hour = 3_600_000;
const base: RefreshState = { policy: 'Periodic', refreshMs: hour, lastRefreshMs: 1_000_000, ready: true, specChanged: false, targetBroken: false, targetExists: true, now: 1_000_000 + 60_000 };
const s = (o: Partial<RefreshState>): RefreshState => ({ ...base, ...o });

describe('refreshDue', () => {
  it('syncs what was never synced or last failed', () => {
    assert.equal(refreshDue(s({ lastRefreshMs: NaN })), true);
    assert.equal(refreshDue(s({ ready: false })), true);
  });
  it('Periodic: when the interval elapsed, the spec changed, or the Secret needs repair', () => {
    assert.equal(refreshDue(base), false);
    assert.equal(refreshDue(s({ now: base.lastRefreshMs + hour })), true);
    assert.equal(refreshDue(s({ specChanged: true })), true);
    assert.equal(refreshDue(s({ targetBroken: true })), true);
    assert.equal(refreshDue(s({ refreshMs: 0, now: base.lastRefreshMs + 10 * hour })), false, 'refreshInterval 0 syncs once');
  });
  it('OnChange: only on changes and repairs', () => {
    assert.equal(refreshDue(s({ policy: 'OnChange', now: base.lastRefreshMs + 10 * hour })), false);
    assert.equal(refreshDue(s({ policy: 'OnChange', specChanged: true })), true);
    assert.equal(refreshDue(s({ policy: 'OnChange', targetBroken: true })), true);
  });
  it('a store deleted or closed to the namespace is reported at once, whatever the policy', () => {
    for (const policy of ['Periodic', 'OnChange', 'CreatedOnce'] as const) {
      assert.equal(refreshDue(s({ policy })), false, `${policy}: not due on its own`);
      assert.equal(refreshDue(s({ policy, storeUnavailable: true })), true, `${policy}: due when the store is unavailable`);
    }
    assert.equal(refreshDue(s({ refreshMs: 0, storeUnavailable: true })), true, 'refreshInterval 0 too');
    assert.equal(refreshDue(s({ storeUnavailable: false })), false);
  });
  it('CreatedOnce: only when the Secret does not exist', () => {
    assert.equal(refreshDue(s({ policy: 'CreatedOnce', specChanged: true, targetBroken: true })), false);
    assert.equal(refreshDue(s({ policy: 'CreatedOnce', targetExists: false, targetBroken: true })), true);
  });
});

describe('nextRefreshDelay', () => {
  it('schedules Periodic refreshes with jitter within the last tenth of the interval', () => {
    assert.equal(nextRefreshDelay(base, true, () => 0), hour);
    assert.equal(nextRefreshDelay(base, true, () => 1), hour * 0.9);
    assert.equal(nextRefreshDelay(base, false, () => 0), hour - 60_000, 'not synced now: the remaining time');
  });
  it('schedules nothing for OnChange, CreatedOnce and refreshInterval 0', () => {
    assert.equal(nextRefreshDelay(s({ policy: 'OnChange' }), true), undefined);
    assert.equal(nextRefreshDelay(s({ policy: 'CreatedOnce' }), true), undefined);
    assert.equal(nextRefreshDelay(s({ refreshMs: 0 }), true), undefined);
  });
  it('never schedules sooner than a second', () => {
    assert.equal(nextRefreshDelay(s({ refreshMs: 500 }), true, () => 0), 1000);
  });
});
