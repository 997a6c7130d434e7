import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Counter, Gauge, Registry, register } from 'prom-client';
import { liveHeap } from '../heap.ts';
import { ObjectCounts, ObjectTable, ObjectValues, ReadyCondition, objectCounts, objectValues, readyCondition } from '../../../src/metrics/object-metrics.ts';
import { writeAllMetrics } from '../../../src/metrics/registry.ts';
import { forgetExternalSecret, forgetReadyGauges, secretMetrics, setReadyCondition } from '../../../src/metrics/index.ts';

/** Everything writeAllMetrics writes, and the chunks it came in. */
async function scrape(): Promise<{ text: string; chunks: number }> {
  const parts: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      parts.push(chunk.toString('utf8'));
      cb();
    },
  });
  await writeAllMetrics(sink);
  return { text: parts.join(''), chunks: parts.length };
}

describe('per-object metric families', () => {
  it('the streamed scrape is byte for byte what prom-client writes for the same registry', async () => {
    const gauge = objectValues('test_object_duration', 'A "duration" with a backslash \\ in its help.', 'gauge');
    const cond = readyCondition('test_object_status_condition', 'The status condition.');
    gauge.reset();
    cond.reset();
    for (let i = 0; i < 3000; i++) {
      const s = { name: `obj-${i}`, namespace: i % 2 ? `team-${i % 7}` : '' };
      gauge.set(s, i % 5 === 0 ? NaN : i * 1.5);
      cond.set(s, ['True', 'False', 'Unknown'][i % 3]!);
    }
    gauge.set({ name: 'odd"name\\with\nbreak', namespace: 'x' }, Infinity);
    const streamed = await scrape();
    assert.equal(streamed.text, await register.metrics());
    assert.ok(streamed.chunks > 3, `written in chunks, not one page (${streamed.chunks})`);
    assert.match(streamed.text, /test_object_duration\{name="odd\\"name\\\\with\\nbreak",namespace="x"\} \+Inf/);
    assert.match(streamed.text, /test_object_status_condition\{name="obj-1",namespace="team-1",condition="Ready",status="False"\} 1/);
    gauge.reset();
    cond.reset();
  });

  it('ESO\'s families keep their names, labels and values: sync calls count, Ready sets one of two series, a gone object loses its series', async () => {
    const s = { name: 'app-db', namespace: 'team-a' };
    secretMetrics.syncCalls.inc(s);
    secretMetrics.syncCalls.inc(s);
    setReadyCondition(secretMetrics, s, false);
    secretMetrics.reconcileDuration.set(s, 1_500_000);
    const text = (await scrape()).text;
    assert.match(text, /^externalsecret_sync_calls_total\{name="app-db",namespace="team-a"\} 2$/m);
    assert.match(text, /^# TYPE externalsecret_sync_calls_total counter$/m);
    assert.match(text, /^externalsecret_status_condition\{name="app-db",namespace="team-a",condition="Ready",status="True"\} 0$/m);
    assert.match(text, /^externalsecret_status_condition\{name="app-db",namespace="team-a",condition="Ready",status="False"\} 1$/m);
    assert.match(text, /^externalsecret_reconcile_duration\{name="app-db",namespace="team-a"\} 1500000$/m);
    assert.deepEqual((await secretMetrics.syncCalls.get()).values, [{ labels: { name: 'app-db', namespace: 'team-a' }, value: 2 }]);
    forgetReadyGauges(secretMetrics, s);
    const after = (await scrape()).text;
    assert.doesNotMatch(after, /externalsecret_status_condition\{name="app-db"/);
    assert.doesNotMatch(after, /externalsecret_reconcile_duration\{name="app-db"/);
    secretMetrics.syncCalls.reset();
  });

  it('each family writes what prom-client\'s own Gauge and Counter wrote for the same calls (the families they replace)', async () => {
    const reference = new Registry();
    const oldCondition = new Gauge({ name: 'golden_status_condition', help: 'The status condition.', labelNames: ['name', 'namespace', 'condition', 'status'], registers: [reference] });
    const oldDuration = new Gauge({ name: 'golden_reconcile_duration', help: 'Duration "ns".', labelNames: ['name', 'namespace'], registers: [reference] });
    const oldCalls = new Counter({ name: 'golden_sync_calls_total', help: 'Sync calls.', labelNames: ['name', 'namespace'], registers: [reference] });
    const condition = readyCondition('golden_status_condition', 'The status condition.');
    const duration = objectValues('golden_reconcile_duration', 'Duration "ns".', 'gauge');
    const calls = objectValues('golden_sync_calls_total', 'Sync calls.', 'counter');
    // The calls the controllers make, in an order with updates, removals and re-adds.
    const objects = Array.from({ length: 50 }, (_, i) => ({ name: `o-${i}`, namespace: i % 3 ? `ns-${i % 4}` : '' }));
    const ready = (o: { name: string; namespace: string }, status: string) => {
      for (const st of ['True', 'False']) oldCondition.set({ ...o, condition: 'Ready', status: st }, st === status ? 1 : 0);
      condition.set(o, status);
    };
    for (const [i, o] of objects.entries()) {
      ready(o, i % 2 ? 'True' : 'False');
      oldDuration.set(o, i * 1000.5);
      duration.set(o, i * 1000.5);
      oldCalls.inc(o);
      calls.inc(o);
    }
    for (const o of objects.slice(10, 20)) {
      for (const st of ['True', 'False']) oldCondition.remove({ ...o, condition: 'Ready', status: st });
      condition.remove(o);
      oldDuration.remove(o);
      duration.remove(o);
    }
    for (const o of objects.slice(5, 15)) {
      ready(o, 'True');
      oldCalls.inc(o, 2);
      calls.inc(o, 2);
    }
    const text = (m: { textChunks(): Iterable<string> }) => [...m.textChunks()].join('');
    assert.equal(text(condition), await reference.getSingleMetricAsString('golden_status_condition'));
    assert.equal(text(duration), await reference.getSingleMetricAsString('golden_reconcile_duration'));
    assert.equal(text(calls), await reference.getSingleMetricAsString('golden_sync_calls_total'));
  });

  it('sync errors by reason: the series prom-client\'s Counter wrote for the same calls, and all of an object\'s reasons go with it', async () => {
    const reference = new Registry();
    const old = new Counter({ name: 'golden_sync_calls_error', help: 'Errors, by "reason".', labelNames: ['name', 'namespace', 'reason'], registers: [reference] });
    const errors = objectCounts('golden_sync_calls_error', 'Errors, by "reason".', 'reason');
    const objects = Array.from({ length: 30 }, (_, i) => ({ name: `o-${i}`, namespace: `ns-${i % 4}` }));
    const reasons = ['StoreNotFound', 'ProviderError', 'odd"reason\\'];
    for (let round = 0; round < 3; round++) {
      for (const [i, o] of objects.entries()) {
        if ((i + round) % 2) continue;
        const reason = reasons[(i * round) % 3]!;
        old.inc({ ...o, reason });
        errors.inc(o, reason);
      }
    }
    for (const o of objects.slice(0, 10)) {
      for (const reason of reasons) old.remove({ ...o, reason });
      errors.remove(o);
    }
    const ours = [...errors.textChunks()].join('').split('\n');
    const theirs = (await reference.getSingleMetricAsString('golden_sync_calls_error')).split('\n');
    // Same header, same series and values; series are grouped by object here (Prometheus reads no order).
    assert.deepEqual(ours.slice(0, 2), theirs.slice(0, 2));
    assert.deepEqual(ours.slice(2).sort(), theirs.slice(2).sort());
    assert.ok(ours.length > 20);

    const s = { name: 'gone', namespace: 'team-a' };
    secretMetrics.syncErrors.inc(s, 'StoreNotFound');
    secretMetrics.syncErrors.inc(s, 'ProviderError');
    secretMetrics.syncCalls.inc(s);
    setReadyCondition(secretMetrics, s, false);
    secretMetrics.reconcileDuration.set(s, 1);
    assert.equal(secretMetrics.syncErrors.value(s, 'StoreNotFound'), 1);
    forgetExternalSecret(s);
    const text = (await scrape()).text;
    assert.doesNotMatch(text, /name="gone"/, 'no series of the deleted ExternalSecret is left, whatever its reasons');
  });

  it('a scrape writes the objects present when it began, once each, even if one is removed and added again meanwhile', () => {
    const g = objectValues('test_object_moving', 'Moving.', 'gauge');
    g.reset();
    for (let i = 0; i < 5000; i++) g.set({ name: `m-${i}`, namespace: 'ns' }, i);
    const chunks: string[] = [];
    for (const chunk of g.textChunks()) {
      if (chunks.length === 0) {
        g.remove({ name: 'm-0', namespace: 'ns' });
        g.set({ name: 'm-0', namespace: 'ns' }, 0);
      }
      chunks.push(chunk);
    }
    const lines = chunks.join('').split('\n').filter((l) => l.startsWith('test_object_moving{'));
    assert.equal(lines.length, 5000);
    assert.equal(new Set(lines).size, 5000, 'no series twice');
    g.reset();
  });

  it('get-or-create: a second load finds the registered family', () => {
    assert.ok(objectValues('externalsecret_sync_calls_total', 'x', 'counter') === secretMetrics.syncCalls);
    assert.ok(secretMetrics.syncCalls instanceof ObjectValues);
    assert.ok(secretMetrics.statusCondition instanceof ReadyCondition);
    assert.ok(objectCounts('externalsecret_sync_calls_error', 'x', 'reason') === secretMetrics.syncErrors);
    assert.ok(secretMetrics.syncErrors instanceof ObjectCounts);
  });

  it('families sharing a table keep their series apart; an object leaves the table with its last series', async () => {
    const table = new ObjectTable();
    const calls = new ObjectValues('test_shared_calls_total', 'Calls.', 'counter', table);
    const errors = new ObjectCounts('test_shared_errors', 'Errors.', 'reason', table);
    const ready = new ReadyCondition('test_shared_status_condition', 'Ready.', table);
    try {
      const a = { name: 'a', namespace: 'ns' };
      const b = { name: 'b', namespace: 'ns' };
      calls.inc(a);
      calls.inc(a);
      errors.inc(a, 'ProviderError');
      ready.set(b, 'False');
      assert.equal(table.size, 2);
      assert.deepEqual([calls.size, errors.size, ready.size], [1, 1, 1], 'each family counts only its own series');
      assert.equal(calls.value(b), undefined, 'b has a Ready series only');
      assert.equal(ready.statusOf(a), undefined);
      const text = (await scrape()).text.split('\n').filter((l) => l.startsWith('test_shared_'));
      assert.deepEqual(text.sort(), [
        'test_shared_calls_total{name="a",namespace="ns"} 2',
        'test_shared_errors{name="a",namespace="ns",reason="ProviderError"} 1',
        'test_shared_status_condition{name="b",namespace="ns",condition="Ready",status="False"} 1',
        'test_shared_status_condition{name="b",namespace="ns",condition="Ready",status="True"} 0',
      ]);
      calls.remove(a);
      assert.equal(table.size, 2, 'a still has its error series');
      assert.equal(errors.value(a, 'ProviderError'), 1);
      errors.remove(a);
      assert.equal(table.size, 1, 'a is gone with its last series');
      ready.reset();
      assert.equal(table.size, 0);
    } finally {
      for (const f of [calls, errors, ready]) register.removeSingleMetric(f.name);
    }
  });

  it('10,000 objects of the four ExternalSecret families hold under 2.5 MB, and a scrape writes them in chunks of at most 70,000 characters', async () => {
    const h0 = liveHeap();
    for (let i = 0; i < 10_000; i++) {
      const s = { name: `es-${i}`, namespace: `bench-ns-${i % 100}` };
      secretMetrics.syncCalls.inc(s);
      setReadyCondition(secretMetrics, s, 'True');
      secretMetrics.reconcileDuration.set(s, 123_456_789);
      if (i % 10 === 0) secretMetrics.syncErrors.inc(s, 'ProviderError');
    }
    const held = liveHeap() - h0;
    // prom-client's own series held 7.9 MB for three of the families; a Map per family, 3.0 MB for the four (2.0 now).
    assert.ok(held < 2.5 * 2 ** 20, `series of 10,000 objects: ${(held / 2 ** 20).toFixed(1)} MB`);
    const sizes: number[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        sizes.push(chunk.length);
        cb();
      },
    });
    await writeAllMetrics(sink);
    const total = sizes.reduce((a, b) => a + b, 0);
    assert.ok(total > 3 * 2 ** 20, `the page holds every series (${total} bytes)`);
    assert.ok(Math.max(...sizes) <= 70_000, `largest chunk ${Math.max(...sizes)} bytes: no page-sized string`);
    for (let i = 0; i < 10_000; i++) forgetExternalSecret({ name: `es-${i}`, namespace: `bench-ns-${i % 100}` });
    assert.equal(secretMetrics.syncCalls.size, 0);
    assert.equal(secretMetrics.syncErrors.size, 0);
  });
});
