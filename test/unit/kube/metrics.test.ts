// The controller runtime's metrics as controller-runtime names and sets them: series created at
// zero when a controller is built, a terminal error counted as an error, the workqueue labels, and
// the work-in-progress gauges computed at scrape time (nothing else sets them).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { register, type MetricValue } from 'prom-client';
import { WorkQueue } from '../../../src/kube/workqueue.ts';
import { Controller, TerminalError } from '../../../src/kube/controller.ts';
import { createLogger } from '../../../src/log.ts';
import { queueMetrics } from '../../../src/kube/metrics.ts';

const silent = createLogger('error', new Writable({ write: (_c, _e, cb) => cb() }));

/** The value of one series at scrape time (collect callbacks run), or undefined when absent. */
async function valueOf(name: string, labels: Record<string, string>): Promise<number | undefined> {
  const metric = register.getSingleMetric(name);
  assert.ok(metric, `metric ${name} is registered`);
  const { values } = await metric.get();
  const match = (values as Array<MetricValue<string>>).find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x));
  return match?.value;
}

describe('controller metrics', () => {
  it('a new controller has its series at zero, and its max workers', async () => {
    new Controller({ name: 'unit-fresh', workers: 3, logger: silent, reconcile: async () => ({}) });
    for (const result of ['success', 'error', 'requeue', 'requeue_after']) {
      assert.equal(await valueOf('controller_runtime_reconcile_total', { controller: 'unit-fresh', result }), 0, result);
    }
    assert.equal(await valueOf('controller_runtime_reconcile_errors_total', { controller: 'unit-fresh' }), 0);
    assert.equal(await valueOf('controller_runtime_terminal_reconcile_errors_total', { controller: 'unit-fresh' }), 0);
    assert.equal(await valueOf('controller_runtime_active_workers', { controller: 'unit-fresh' }), 0);
    assert.equal(await valueOf('controller_runtime_max_concurrent_reconciles', { controller: 'unit-fresh' }), 3);
  });

  it('a terminal error counts as result="error" (what dashboards divide by) and apart as terminal', async () => {
    const c = new Controller({ name: 'unit-terminal', workers: 1, logger: silent, reconcile: async () => { throw new TerminalError('bad input'); } });
    c.queue.add('k');
    await c.queue.get();
    await c.processOne('k');
    assert.equal(await valueOf('controller_runtime_reconcile_total', { controller: 'unit-terminal', result: 'error' }), 1);
    assert.equal(await valueOf('controller_runtime_reconcile_errors_total', { controller: 'unit-terminal' }), 1);
    assert.equal(await valueOf('controller_runtime_terminal_reconcile_errors_total', { controller: 'unit-terminal' }), 1);
    assert.equal(c.queue.delayedLen(), 0, 'not retried');
    c.queue.shutDown();
  });
});

describe('workqueue metrics', () => {
  it('carry controller-runtime\'s name and controller labels', async () => {
    const q = new WorkQueue({ name: 'unit-labels' });
    q.add('a');
    assert.equal(await valueOf('workqueue_adds_total', { name: 'unit-labels', controller: 'unit-labels' }), 1);
    assert.equal(await valueOf('workqueue_depth', { name: 'unit-labels', controller: 'unit-labels', priority: 'high' }), 1);
    q.shutDown();
  });

  it('keys parked by a bulkhead count in the depth (priority="parked")', async () => {
    const q = new WorkQueue({ name: 'unit-parked', groupsOf: () => ['one-store'], groupLimit: () => 1 });
    for (const k of ['a', 'b', 'c']) q.add(k);
    const first = await q.get();
    assert.equal(first, 'a');
    // The next get parks b and c behind a (their group is full) and waits.
    const waiting = q.get();
    await new Promise((r) => setImmediate(r));
    const depth = async (priority: string) => (await valueOf('workqueue_depth', { name: 'unit-parked', controller: 'unit-parked', priority })) ?? 0;
    assert.equal((await depth('high')) + (await depth('parked')), 2, 'b and c wait, whether queued or parked');
    assert.ok((await depth('parked')) >= 1, 'parked keys are visible');
    q.done('a');
    assert.equal(await waiting, 'b');
    assert.equal((await depth('high')) + (await depth('parked')), 1);
    q.shutDown();
  });

  it('unfinished work and the longest running processor are computed when scraped', async () => {
    let now = 1_000;
    const q = new WorkQueue({ name: 'unit-wip', now: () => now });
    q.add('a');
    q.add('b');
    await q.get();
    now += 2_000;
    await q.get();
    now += 3_000;
    // a has run 5 s, b 3 s: 8 s of unfinished work, the longest 5 s.
    assert.equal(await valueOf('workqueue_unfinished_work_seconds', { name: 'unit-wip', controller: 'unit-wip' }), 8);
    assert.equal(await valueOf('workqueue_longest_running_processor_seconds', { name: 'unit-wip', controller: 'unit-wip' }), 5);
    q.done('a');
    q.done('b');
    assert.equal(await valueOf('workqueue_unfinished_work_seconds', { name: 'unit-wip', controller: 'unit-wip' }), 0);
    q.shutDown();
  });

  it('the depth is computed when scraped, not at every add, get and done, and kept at shutdown', async (t) => {
    const q = new WorkQueue({ name: 'unit-depth' });
    const set = t.mock.method(queueMetrics.depth, 'set');
    for (let i = 0; i < 50; i++) q.add(`k${i}`);
    for (let i = 0; i < 20; i++) q.done((await q.get())!);
    assert.equal(set.mock.callCount(), 0, 'nothing set on the queue\'s own path');
    assert.equal(await valueOf('workqueue_depth', { name: 'unit-depth', controller: 'unit-depth', priority: 'high' }), 30);
    assert.ok(set.mock.callCount() > 0, 'set by the scrape');
    await q.get();
    q.shutDown();
    assert.equal(await valueOf('workqueue_depth', { name: 'unit-depth', controller: 'unit-depth', priority: 'high' }), 29, 'the depth at shutdown');
  });
});
