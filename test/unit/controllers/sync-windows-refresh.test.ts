// Which refreshes spec.syncWindows may postpone (ESO: only the periodic one): a first sync, a spec
// change, a repair of the target, a retry after a failure and a store that went away never wait.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { periodicRefreshOnly } from '../../../src/controllers/externalsecret-reconciler.ts';
import type { RefreshState } from '../../../src/controllers/refresh.ts';

const periodic: RefreshState = {
  policy: 'Periodic', refreshMs: 60_000, lastRefreshMs: 0, ready: true, specChanged: false, targetBroken: false, targetExists: true, storeUnavailable: false, now: 120_000,
};

test('only a due periodic refresh of a Ready, synced ExternalSecret waits for its windows', () => {
  assert.equal(periodicRefreshOnly(periodic), true);
  const never: Array<[string, Partial<RefreshState>]> = [
    ['first sync', { lastRefreshMs: Number.NaN }],
    ['failed last time', { ready: false }],
    ['spec changed', { specChanged: true }],
    ['target edited or deleted', { targetBroken: true }],
    ['store gone', { storeUnavailable: true }],
    ['OnChange', { policy: 'OnChange' }],
    ['CreatedOnce', { policy: 'CreatedOnce' }],
  ];
  for (const [why, change] of never) assert.equal(periodicRefreshOnly({ ...periodic, ...change }), false, why);
});
