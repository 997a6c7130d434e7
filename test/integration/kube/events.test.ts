// Events against the real kube-apiserver: a burst of distinct Events (one per object, as the
// first sync of many ExternalSecrets produces) is written in full, with nothing dropped; similar
// Events are combined into one the apiserver accepts; and what the spam filter holds back is
// exactly what tessera_events_dropped_total counts.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { register, type MetricValue } from 'prom-client';
import type { KubeClient } from '../../../src/kube/client.ts';
import { EventRecorder, combinedMessagePrefix } from '../../../src/kube/events.ts';
import { core, type CoreEvent, type KubeObject } from '../../../src/kube/types.ts';
import { adminClient, freshNamespace, peers } from '../helpers.ts';

async function droppedTotal(): Promise<number> {
  const { values } = await register.getSingleMetric('tessera_events_dropped_total')!.get();
  return (values as Array<MetricValue<string>>).reduce((sum, v) => sum + v.value, 0);
}

async function droppedBy(reason: string): Promise<number> {
  const { values } = await register.getSingleMetric('tessera_events_dropped_total')!.get();
  return (values as Array<MetricValue<string>>).find((v) => v.labels.reason === reason)?.value ?? 0;
}

/** An ExternalSecret as the recorder sees it; the Event only refers to it, so it need not exist. */
function anExternalSecret(namespace: string, name: string): KubeObject {
  return { apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret', metadata: { name, namespace, uid: randomUUID(), resourceVersion: '1' } };
}

async function eventsIn(client: KubeClient, namespace: string): Promise<CoreEvent[]> {
  return (await client.list<CoreEvent>(core.events, namespace)).items;
}

describe('EventRecorder against kube-apiserver', () => {
  let client: KubeClient;
  before(async () => {
    await peers();
    client = await adminClient();
  });

  it('writes every one of 1,500 distinct Events recorded at once, and drops none', async () => {
    const ns = await freshNamespace(client, 'events-burst');
    // Default buffer, concurrency and retries; a higher write rate than the default 25/s only
    // so that the test takes seconds, not a minute.
    const rec = new EventRecorder(client, { component: 'tessera-events-test', writeQps: 200, writeBurst: 200 });
    const before = await droppedTotal();
    const names = Array.from({ length: 1500 }, (_, i) => `es-${i}`);
    const t0 = performance.now();
    for (const name of names) rec.normal(anExternalSecret(ns, name), 'Created', 'secret created');
    assert.equal(rec.pendingWrites, 1500, 'the buffer holds the whole burst');
    await rec.drain();
    const seconds = (performance.now() - t0) / 1000;
    const events = await eventsIn(client, ns);
    const created = events.filter((e) => e.reason === 'Created' && e.source?.component === 'tessera-events-test');
    assert.equal(created.length, 1500, `Events in the apiserver after ${seconds.toFixed(1)} s`);
    assert.deepEqual(created.map((e) => e.involvedObject.name).sort(), [...names].sort(), 'one Event per object');
    assert.ok(created.every((e) => e.count === 1 && e.type === 'Normal' && e.message === 'secret created'));
    assert.equal(rec.dropped, 0);
    assert.equal(await droppedTotal(), before, 'tessera_events_dropped_total did not move');
  });

  it('combines more than 10 different messages of one reason, and folds repeats into a count', async () => {
    const ns = await freshNamespace(client, 'events-combine');
    const rec = new EventRecorder(client, { component: 'tessera-events-test' });
    const es = anExternalSecret(ns, 'flaky');
    for (let i = 0; i < 12; i++) {
      rec.warning(es, 'UpdateFailed', `attempt ${i} failed`);
      await rec.drain();
    }
    for (let i = 0; i < 5; i++) rec.warning(es, 'UpdateFailed', 'attempt 3 failed');
    await rec.drain();
    const events = await eventsIn(client, ns);
    assert.equal(events.length, 10, '9 individual Events and one combined');
    const combined = events.filter((e) => e.message.startsWith(combinedMessagePrefix));
    assert.deepEqual(combined.map((e) => [e.message, e.count]), [[`${combinedMessagePrefix}attempt 11 failed`, 3]]);
    assert.equal(events.find((e) => e.message === 'attempt 3 failed')?.count, 6, 'five repeats patched onto the first');
    assert.equal(rec.dropped, 0);
  });

  it('the spam filter holds back what is over one object\u2019s budget, and the metric counts exactly that', async () => {
    const ns = await freshNamespace(client, 'events-spam');
    const rec = new EventRecorder(client, { component: 'tessera-events-test' });
    const before = { spam: await droppedBy('spam_filter'), total: await droppedTotal() };
    const hot = anExternalSecret(ns, 'hot');
    const calm = anExternalSecret(ns, 'calm');
    // Distinct reasons: each needs a write of its own (no folding, no combining).
    for (let i = 0; i < 40; i++) rec.warning(hot, `Reason${i}`, 'failed');
    for (let i = 0; i < 3; i++) rec.normal(calm, `Reason${i}`, 'fine');
    await rec.drain();
    const events = await eventsIn(client, ns);
    assert.equal(events.filter((e) => e.involvedObject.name === 'hot').length, 25, 'the default burst per object');
    assert.equal(events.filter((e) => e.involvedObject.name === 'calm').length, 3, 'another object keeps its own budget');
    assert.equal(rec.droppedByReason.spam_filter, 15);
    assert.equal(await droppedBy('spam_filter'), before.spam + 15);
    assert.equal(await droppedTotal(), before.total + 15, 'nothing else dropped');
  });
});
