// The EventRecorder against an in-memory Event store that answers slowly or fails on demand:
// nothing is lost while the buffer holds, exactly what is dropped is counted (per reason, in the
// metric too), occurrences waiting for the same Event fold into one write, similar events are
// combined after 10 as client-go does, the spam filter is per object, and failed writes are
// retried only when retrying can help.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { register, type MetricValue } from 'prom-client';
import { ApiError, type CallOptions, type KubeClient } from '../../../src/kube/client.ts';
import { EventRecorder, combinedMessagePrefix, type EventRecorderOptions } from '../../../src/kube/events.ts';
import type { CoreEvent, KubeObject } from '../../../src/kube/types.ts';

interface SinkRequest {
  operation: 'create' | 'patch';
  name: string;
  count: number | undefined;
}

/** An Event store with the apiserver's answers that matter here: 409 AlreadyExists, 404 on a patch of a missing Event. */
class FakeEventSink {
  readonly events = new Map<string, CoreEvent>();
  readonly requests: SinkRequest[] = [];
  /** Answers of the next requests, in order: an error to throw, or undefined to serve normally. */
  readonly failures: Array<Error | undefined> = [];
  /** Every request waits this long (ms) before it is answered. */
  latencyMs = 0;
  /** When set, requests wait for their signal to abort (a server that never answers). */
  hang = false;
  inFlight = 0;
  maxInFlight = 0;
  readonly inFlightByName = new Map<string, number>();
  maxInFlightPerName = 0;

  async create(_rt: unknown, ev: CoreEvent, opts: CallOptions = {}): Promise<CoreEvent> {
    const key = `${ev.metadata!.namespace}/${ev.metadata!.name}`;
    return this.serve({ operation: 'create', name: key, count: ev.count }, opts, () => {
      if (this.events.has(key)) throw apiError(409, 'AlreadyExists');
      this.events.set(key, structuredClone(ev));
      return ev;
    });
  }

  async patch(_rt: unknown, namespace: string, name: string, _type: string, body: Partial<CoreEvent>, opts: CallOptions = {}): Promise<CoreEvent> {
    const key = `${namespace}/${name}`;
    return this.serve({ operation: 'patch', name: key, count: body.count }, opts, () => {
      const ev = this.events.get(key);
      if (!ev) throw apiError(404, 'NotFound');
      Object.assign(ev, body);
      return ev;
    });
  }

  private async serve(req: SinkRequest, opts: CallOptions, apply: () => CoreEvent): Promise<CoreEvent> {
    this.requests.push(req);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const perName = (this.inFlightByName.get(req.name) ?? 0) + 1;
    this.inFlightByName.set(req.name, perName);
    this.maxInFlightPerName = Math.max(this.maxInFlightPerName, perName);
    try {
      if (this.hang) {
        await new Promise((_resolve, reject) => opts.signal?.addEventListener('abort', () => reject(opts.signal!.reason), { once: true }));
      }
      if (this.latencyMs) await delay(this.latencyMs);
      const failure = this.failures.shift();
      if (failure) throw failure;
      return apply();
    } finally {
      this.inFlight--;
      this.inFlightByName.set(req.name, perName - 1);
    }
  }

  byReason(reason: string): CoreEvent[] {
    return [...this.events.values()].filter((e) => e.reason === reason);
  }
}

function apiError(code: number, reason: string): ApiError {
  return new ApiError(code, { reason, message: reason }, 'POST', '/api/v1/namespaces/ns/events');
}

let uid = 0;
function anObject(name: string, namespace = 'tenant'): KubeObject {
  return { apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret', metadata: { name, namespace, uid: `uid-${++uid}` } };
}

/** No write rate limit and fast retries unless a test says otherwise: the tests wait for the sink, not for timers. */
function recorder(sink: FakeEventSink, opts: Partial<EventRecorderOptions> = {}): EventRecorder {
  return new EventRecorder(sink as unknown as KubeClient, { component: 'tessera-unit', writeQps: Infinity, retryBaseMs: 1, retryMaxMs: 4, ...opts });
}

async function metricValue(name: string, labels: Record<string, string>): Promise<number> {
  const metric = register.getSingleMetric(name);
  assert.ok(metric, `metric ${name} is registered`);
  const { values } = await metric.get();
  return (values as Array<MetricValue<string>>).find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0;
}

const dropped = (reason: string) => metricValue('tessera_events_dropped_total', { reason });
const writes = (operation: string, result: string) => metricValue('tessera_event_writes_total', { operation, result });

describe('EventRecorder: no silent loss', () => {
  it('writes a burst of 5,000 distinct events through a slow sink when the buffer holds them, 4 at a time', async () => {
    const sink = new FakeEventSink();
    sink.latencyMs = 1;
    const rec = recorder(sink, { maxPending: 5000 });
    const before = { full: await dropped('queue_full'), created: await writes('create', 'success') };
    for (let i = 0; i < 5000; i++) rec.normal(anObject(`es-${i}`), 'Created', 'secret created');
    assert.equal(rec.pendingWrites, 5000, 'all of them wait in the buffer, none was refused');
    await rec.drain();
    assert.equal(sink.events.size, 5000);
    assert.equal(new Set([...sink.events.values()].map((e) => e.involvedObject.name)).size, 5000, 'one Event per object');
    assert.equal(rec.dropped, 0);
    assert.equal(await dropped('queue_full'), before.full);
    assert.equal(await writes('create', 'success'), before.created + 5000);
    assert.equal(sink.maxInFlight, 4, 'bounded concurrency, and all of it used');
  });

  it('drops exactly what does not fit in the buffer, and counts it by reason', async () => {
    const sink = new FakeEventSink();
    sink.latencyMs = 1;
    const logged: Array<{ msg: string; fields?: Record<string, unknown> }> = [];
    const rec = recorder(sink, { maxPending: 1000, log: (msg, fields) => logged.push({ msg, ...(fields ? { fields } : {}) }) });
    const before = await dropped('queue_full');
    // Recorded in one go: nothing is written before the last one, so 1,000 fit and 4,000 do not.
    for (let i = 0; i < 5000; i++) rec.normal(anObject(`es-${i}`), 'Created', 'secret created');
    await rec.drain();
    assert.equal(sink.events.size, 1000);
    assert.deepEqual(rec.droppedByReason, { spam_filter: 0, queue_full: 4000, write_failed: 0, shutdown: 0 });
    assert.equal(await dropped('queue_full'), before + 4000);
    assert.equal(logged.filter((l) => l.msg === 'event buffer full, events dropped').length, 1, 'one log line, not one per Event');
  });

  it('interleaved with writing, written + dropped is every event and the sink holds exactly the written ones', async () => {
    const sink = new FakeEventSink();
    sink.latencyMs = 2;
    const rec = recorder(sink, { maxPending: 300 });
    for (let batch = 0; batch < 10; batch++) {
      for (let i = 0; i < 500; i++) rec.normal(anObject(`es-${batch}-${i}`), 'Created', 'secret created');
      await delay(5);
    }
    await rec.drain();
    const lost = rec.droppedByReason.queue_full;
    assert.ok(lost > 0 && lost < 5000 - 300, `some were dropped, more than the buffer was written (${lost})`);
    assert.equal(sink.events.size + lost, 5000);
    assert.equal(rec.dropped, lost);
  });
});

describe('EventRecorder: correlation', () => {
  it('identical events waiting in the buffer fold into one write with their count', async () => {
    const sink = new FakeEventSink();
    const rec = recorder(sink);
    const es = anObject('hot');
    for (let i = 0; i < 50; i++) rec.warning(es, 'UpdateFailed', 'could not get secret data from provider');
    await rec.drain();
    assert.deepEqual(sink.requests.map((r) => [r.operation, r.count]), [['create', 50]], 'one request for 50 occurrences');
    const [ev] = sink.events.values();
    assert.equal(ev!.count, 50);
    assert.equal(ev!.type, 'Warning');
    assert.equal(ev!.involvedObject.uid, es.metadata!.uid);
    assert.equal(rec.dropped, 0, 'folded occurrences take no spam budget');
  });

  it('occurrences arriving while the Event is being written become one patch after it, never a parallel write', async () => {
    const sink = new FakeEventSink();
    sink.latencyMs = 20;
    const rec = recorder(sink);
    const es = anObject('busy');
    rec.normal(es, 'Updated', 'secret updated');
    await delay(5); // the create is in flight now
    for (let i = 0; i < 10; i++) rec.normal(es, 'Updated', 'secret updated');
    await rec.drain();
    assert.deepEqual(sink.requests.map((r) => [r.operation, r.count]), [['create', 1], ['patch', 11]]);
    assert.equal(sink.maxInFlightPerName, 1);
    assert.equal([...sink.events.values()][0]!.count, 11);
  });

  it('combines more than 10 different messages of one reason within 10 minutes into one Event, as client-go', async () => {
    const sink = new FakeEventSink();
    let now = Date.parse('2026-01-01T00:00:00Z');
    const rec = recorder(sink, { now: () => now });
    const es = anObject('flaky');
    for (let i = 0; i < 12; i++) {
      rec.warning(es, 'UpdateFailed', `attempt ${i} failed`);
      now += 1000;
      await rec.drain();
    }
    const failed = sink.byReason('UpdateFailed');
    const combined = failed.filter((e) => e.message.startsWith(combinedMessagePrefix));
    assert.equal(failed.length, 10, '9 individual Events and one combined');
    assert.deepEqual(combined.map((e) => [e.message, e.count]), [[`${combinedMessagePrefix}attempt 11 failed`, 3]], 'the latest message, counting the 10th to 12th');
    // A message still among the recent ones counts on its own Event again.
    rec.warning(es, 'UpdateFailed', 'attempt 5 failed');
    await rec.drain();
    assert.equal(failed.length, sink.byReason('UpdateFailed').length);
    assert.equal(sink.byReason('UpdateFailed').find((e) => e.message === 'attempt 5 failed')!.count, 2);
    // Other reasons of the same object are not combined with these.
    rec.normal(es, 'Updated', 'secret updated');
    await rec.drain();
    assert.equal(sink.byReason('Updated')[0]!.message, 'secret updated');
    // Past the window since the last similar event, a new message is its own Event again.
    now += 10 * 60_000 + 1;
    rec.warning(es, 'UpdateFailed', 'attempt 99 failed');
    await rec.drain();
    assert.equal(sink.byReason('UpdateFailed').find((e) => e.message === 'attempt 99 failed')?.count, 1);
  });

  it('spam filter: 25 Events per object, then one per 5 minutes, each object on its own budget', async () => {
    const sink = new FakeEventSink();
    let now = Date.parse('2026-01-01T00:00:00Z');
    const rec = recorder(sink, { now: () => now });
    const before = await dropped('spam_filter');
    const a = anObject('a');
    const b = anObject('b');
    // Distinct reasons: neither folded nor combined, so each needs a write of its own.
    for (let i = 0; i < 30; i++) rec.normal(a, `Reason${i}`, 'm');
    for (let i = 0; i < 25; i++) rec.normal(b, `Reason${i}`, 'm');
    await rec.drain();
    const about = (o: KubeObject) => [...sink.events.values()].filter((e) => e.involvedObject.uid === o.metadata!.uid).length;
    assert.equal(about(a), 25);
    assert.equal(about(b), 25, 'a hot object does not use up another object\u2019s budget');
    assert.equal(rec.droppedByReason.spam_filter, 5);
    assert.equal(await dropped('spam_filter'), before + 5);
    now += 5 * 60_000;
    rec.normal(a, 'Later1', 'm');
    rec.normal(a, 'Later2', 'm');
    await rec.drain();
    assert.equal(about(a), 26, 'one token refilled after 5 minutes, and only one');
    assert.equal(rec.droppedByReason.spam_filter, 6);
  });

  it('a filtered occurrence still counts: the next Event written carries the true count', async () => {
    const sink = new FakeEventSink();
    let now = Date.parse('2026-01-01T00:00:00Z');
    const rec = recorder(sink, { now: () => now, burst: 1 });
    const es = anObject('counted');
    rec.warning(es, 'UpdateFailed', 'boom');
    await rec.drain();
    rec.warning(es, 'UpdateFailed', 'boom'); // filtered: the object's one token is spent
    await rec.drain();
    now += 5 * 60_000;
    rec.warning(es, 'UpdateFailed', 'boom');
    await rec.drain();
    assert.equal(rec.droppedByReason.spam_filter, 1);
    assert.deepEqual(sink.requests.map((r) => [r.operation, r.count]), [['create', 1], ['patch', 3]]);
  });

  it('remembers at most cacheSize objects, and forgets an object on forget()', async () => {
    const sink = new FakeEventSink();
    const rec = recorder(sink, { cacheSize: 2 });
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => anObject(n));
    const opsAbout = (o: KubeObject) => sink.requests.filter((r) => r.name.startsWith(`tenant/${o.metadata!.name}.`)).map((r) => r.operation);
    for (const o of [a, b, a, c, a]) {
      rec.normal(o!, 'Updated', 'secret updated');
      await rec.drain();
    }
    assert.deepEqual(opsAbout(a!), ['create', 'patch', 'patch'], 'a stays while it is recently used');
    rec.normal(b!, 'Updated', 'secret updated');
    await rec.drain();
    assert.deepEqual(opsAbout(b!), ['create', 'create'], 'b was the least recently used of three: a new Event');
    rec.normal(d!, 'Updated', 'secret updated');
    await rec.drain();
    rec.forget(d!.metadata!.uid!);
    rec.normal(d!, 'Updated', 'secret updated');
    await rec.drain();
    assert.deepEqual(opsAbout(d!), ['create', 'create'], 'a forgotten object starts afresh');
  });

  it('names Events after long object names without exceeding 253 characters', async () => {
    const sink = new FakeEventSink();
    const rec = recorder(sink);
    rec.normal(anObject('x'.repeat(253)), 'Created', 'secret created');
    await rec.drain();
    const [name] = [...sink.events.values()].map((e) => e.metadata!.name!);
    assert.equal(name!.length, 253);
    assert.match(name!, /^x+\.[0-9a-f]{16}$/);
  });
});

describe('EventRecorder: names and timestamps', () => {
  it('names are distinct across more Events than one block of random bytes holds; timestamps are the clock\'s, in RFC 3339', async () => {
    const sink = new FakeEventSink();
    let now = Date.parse('2026-12-01T10:00:00Z');
    const rec = recorder(sink, { now: () => now });
    const objects = Array.from({ length: 1500 }, (_, i) => anObject(`o-${i}`));
    for (const o of objects) rec.normal(o, 'Created', 'secret created');
    now += 5_000;
    rec.normal(objects[0]!, 'Created', 'secret created');
    await rec.drain();
    const names = [...sink.events.values()].map((e) => e.metadata!.name!);
    assert.equal(names.length, 1500);
    assert.equal(new Set(names.map((n) => n.split('.')[1])).size, 1500, 'no suffix twice');
    for (const n of names) assert.match(n, /^o-\d+\.[0-9a-f]{16}$/);
    const first = [...sink.events.values()].find((e) => e.involvedObject.name === 'o-0')!;
    assert.equal(first.firstTimestamp, '2026-12-01T10:00:00Z');
    assert.equal(first.lastTimestamp, '2026-12-01T10:00:05Z');
    assert.equal(first.count, 2);
  });
});

describe('EventRecorder: failed writes', () => {
  it('retries transport errors, 429 and 5xx with backoff, then writes the Event once', async () => {
    const sink = new FakeEventSink();
    const rec = recorder(sink);
    const before = { failed: await writes('create', 'error'), ok: await writes('create', 'success') };
    sink.failures.push(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), apiError(429, 'TooManyRequests'), apiError(503, 'ServiceUnavailable'));
    rec.normal(anObject('retried'), 'Created', 'secret created');
    await rec.drain();
    assert.equal(sink.events.size, 1);
    assert.deepEqual(sink.requests.map((r) => r.operation), ['create', 'create', 'create', 'create']);
    assert.equal(rec.dropped, 0);
    assert.equal(await writes('create', 'error'), before.failed + 3);
    assert.equal(await writes('create', 'success'), before.ok + 1);
  });

  it('gives up after maxAttempts and counts the Event as write_failed', async () => {
    const sink = new FakeEventSink();
    const logged: string[] = [];
    const rec = recorder(sink, { maxAttempts: 3, log: (msg) => logged.push(msg) });
    const before = await dropped('write_failed');
    for (let i = 0; i < 5; i++) sink.failures.push(apiError(500, 'InternalError'));
    rec.normal(anObject('down'), 'Created', 'secret created');
    await rec.drain();
    assert.equal(sink.requests.length, 3);
    assert.equal(sink.events.size, 0);
    assert.equal(rec.droppedByReason.write_failed, 1);
    assert.equal(await dropped('write_failed'), before + 1);
    assert.deepEqual(logged, ['event not written']);
  });

  it('does not retry an answer that the same request would get again (422, 403 namespace terminating)', async () => {
    const sink = new FakeEventSink();
    const rec = recorder(sink);
    sink.failures.push(apiError(422, 'Invalid'), apiError(403, 'Forbidden'));
    rec.normal(anObject('invalid'), 'Created', 'secret created');
    rec.normal(anObject('terminating'), 'Created', 'secret created');
    await rec.drain();
    assert.equal(sink.requests.length, 2);
    assert.equal(rec.droppedByReason.write_failed, 2);
  });

  it('creates an Event that is gone when patching it, and patches one that a lost create did write', async () => {
    const sink = new FakeEventSink();
    const rec = recorder(sink);
    const es = anObject('expired');
    rec.normal(es, 'Updated', 'secret updated');
    await rec.drain();
    sink.events.clear(); // the apiserver's Event TTL expired it
    rec.normal(es, 'Updated', 'secret updated');
    await rec.drain();
    assert.deepEqual(sink.requests.map((r) => [r.operation, r.count]), [['create', 1], ['patch', 2], ['create', 2]]);
    assert.equal([...sink.events.values()][0]!.count, 2);

    // A create that reached the server but whose answer was lost (a timeout) is retried, finds the Event, and patches it.
    const other = new FakeEventSink();
    const rec2 = recorder(other);
    const realCreate = other.create.bind(other);
    let first = true;
    other.create = async (rt, ev, opts) => {
      const out = await realCreate(rt, ev, opts);
      if (first) {
        first = false;
        throw Object.assign(new Error('request timed out'), { name: 'TimeoutError' });
      }
      return out;
    };
    rec2.normal(anObject('lost-answer'), 'Created', 'secret created');
    await rec2.drain();
    assert.deepEqual(other.requests.map((r) => r.operation), ['create', 'create', 'patch']);
    assert.equal(other.events.size, 1);
    assert.equal(rec2.dropped, 0);
  });

  it('occurrences that arrive during a retry ride along with it', async () => {
    const sink = new FakeEventSink();
    const rec = recorder(sink, { retryBaseMs: 30, retryMaxMs: 30 });
    sink.failures.push(apiError(503, 'ServiceUnavailable'), apiError(503, 'ServiceUnavailable'));
    const es = anObject('riding');
    rec.warning(es, 'UpdateFailed', 'boom');
    await delay(5);
    for (let i = 0; i < 4; i++) rec.warning(es, 'UpdateFailed', 'boom');
    await rec.drain();
    assert.deepEqual(sink.requests.map((r) => r.operation), ['create', 'create', 'create']);
    assert.equal([...sink.events.values()][0]!.count, 5);
  });
});

describe('EventRecorder: rate and shutdown', () => {
  it('writes at the configured rate', async () => {
    const sink = new FakeEventSink();
    const rec = recorder(sink, { writeQps: 100, writeBurst: 1 });
    const t0 = performance.now();
    for (let i = 0; i < 21; i++) rec.normal(anObject(`rated-${i}`), 'Created', 'secret created');
    await rec.drain();
    const ms = performance.now() - t0;
    assert.equal(sink.events.size, 21);
    assert.ok(ms >= 180, `21 writes at 100/s with a burst of 1 took ${ms.toFixed(0)} ms`);
  });

  it('yields to queued reconciles: at the busy rate while keys wait, at the full rate once they do not', async () => {
    const sink = new FakeEventSink();
    let backlog = 100;
    const rec = recorder(sink, { writeQps: Infinity, busyWriteQps: 20, backlog: () => backlog });
    const t0 = performance.now();
    for (let i = 0; i < 6; i++) rec.normal(anObject(`busy-${i}`), 'Created', 'secret created');
    await rec.drain();
    const busyMs = performance.now() - t0;
    assert.equal(sink.events.size, 6);
    // One write at once (the busy bucket starts with one token), then one each 50 ms.
    assert.ok(busyMs >= 230, `6 writes at 20/s while reconciles waited took ${busyMs.toFixed(0)} ms`);

    backlog = 0;
    const t1 = performance.now();
    for (let i = 0; i < 50; i++) rec.normal(anObject(`idle-${i}`), 'Created', 'secret created');
    await rec.drain();
    const idleMs = performance.now() - t1;
    assert.equal(sink.events.size, 56);
    assert.ok(idleMs < 200, `50 writes with no reconcile waiting took ${idleMs.toFixed(0)} ms (at the busy rate: 2.5 s)`);
  });

  it('shutdown writes what it can before its deadline, then drops and counts the rest', async () => {
    const sink = new FakeEventSink();
    sink.hang = true;
    const rec = recorder(sink, { shutdownTimeoutMs: 50, writeQps: 1, writeBurst: 1 });
    const before = await dropped('shutdown');
    for (let i = 0; i < 10; i++) rec.normal(anObject(`late-${i}`), 'Created', 'secret created');
    const t0 = performance.now();
    await rec.shutdown();
    assert.ok(performance.now() - t0 < 2000, 'the rate limit is lifted and the deadline holds');
    assert.equal(sink.events.size, 0);
    assert.equal(rec.droppedByReason.shutdown, 10, '4 aborted in flight, 6 never sent');
    assert.equal(sink.requests.length, 4);
    rec.normal(anObject('after'), 'Created', 'secret created');
    assert.equal(rec.droppedByReason.shutdown, 11);
    assert.equal(await dropped('shutdown'), before + 11);
  });

  it('shutdown with everything written returns at once', async () => {
    const sink = new FakeEventSink();
    const rec = recorder(sink, { shutdownTimeoutMs: 5000 });
    rec.normal(anObject('done'), 'Created', 'secret created');
    const t0 = performance.now();
    await rec.shutdown();
    assert.ok(performance.now() - t0 < 1000);
    assert.equal(sink.events.size, 1);
    assert.equal(rec.dropped, 0);
  });
});
