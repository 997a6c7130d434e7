// What the informer does to an object before caching it (src/kube/informer.ts, intern.ts):
// managedFields dropped without turning the metadata into a slow dictionary, and the values that
// repeat across objects shared. Both are about heap, so both are measured, after full collections.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { liveHeap } from '../heap.ts';
import { intern, internCommonStrings, internedCount, internTimestamp } from '../../../src/kube/intern.ts';
import { stripManagedFields } from '../../../src/kube/informer.ts';
import type { KubeObject } from '../../../src/kube/types.ts';


/** An ExternalSecret as the apiserver sends it, with its own uid, name and resourceVersion. */
function externalSecretJson(i: number): string {
  return JSON.stringify({
    apiVersion: 'external-secrets.io/v1',
    kind: 'ExternalSecret',
    metadata: {
      name: `es-${i}`, namespace: `team-${i % 50}`, uid: `0000${i}-uid`, resourceVersion: String(1000 + i), generation: 1,
      creationTimestamp: '2026-11-30T20:57:51Z', labels: { app: 'payments', tier: 'backend' },
      managedFields: [{ manager: 'kubectl', operation: 'Apply', apiVersion: 'external-secrets.io/v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:data': {} } } }],
    },
    spec: { refreshInterval: '1h', secretStoreRef: { kind: 'ClusterSecretStore', name: 'aws-prod' }, target: { name: `es-${i}` }, data: [{ secretKey: 'password', remoteRef: { key: `db/${i % 100}` } }] },
    status: { refreshTime: '2026-11-30T20:58:00Z', syncedResourceVersion: `1-${i}`, conditions: [{ type: 'Ready', status: 'True', reason: 'SecretSynced', message: 'secret synced', lastTransitionTime: '2026-11-30T20:58:00Z' }] },
  });
}

/** Heap held by `count` objects parsed and passed through `prepare`. */
function heldBy(count: number, prepare: (o: KubeObject) => KubeObject): number {
  const texts = Array.from({ length: count }, (_, i) => externalSecretJson(i));
  const before = liveHeap();
  const kept = texts.map((t) => prepare(JSON.parse(t) as KubeObject));
  const held = liveHeap() - before;
  assert.equal(kept.length, count);
  return held;
}

describe('objects prepared for the cache', () => {
  it('keep every value as it was, without managedFields', () => {
    const parsed = JSON.parse(externalSecretJson(7)) as KubeObject & Record<string, unknown>;
    const expected = structuredClone(parsed);
    delete expected.metadata!.managedFields;
    assert.deepEqual(internCommonStrings(stripManagedFields(parsed)), expected);
    assert.equal('managedFields' in parsed.metadata!, false);
  });

  it('hold less heap: metadata stays compact without managedFields, and repeated values are shared', () => {
    const n = 20_000;
    heldBy(2_000, (o) => internCommonStrings(stripManagedFields(o))); // compile and warm the table
    const deleted = heldBy(n, (o) => {
      delete o.metadata!.managedFields;
      return o;
    });
    const stripped = heldBy(n, stripManagedFields);
    const interned = heldBy(n, (o) => internCommonStrings(stripManagedFields(o)));
    const perObject = (b: number) => Math.round(b / n);
    // Measured on these objects: 1,408 bytes each with `delete`, 1,032 with the metadata rebuilt,
    // 857 with the repeated values shared.
    assert.ok(deleted - stripped > 200 * n, `delete ${perObject(deleted)} B/object, rebuilt ${perObject(stripped)} B/object`);
    assert.ok(stripped - interned > 100 * n, `rebuilt ${perObject(stripped)} B/object, shared strings ${perObject(interned)} B/object`);
  });

  it('intern keeps only values seen twice, at most 4,096 of them, none longer than 128 characters', () => {
    const kept = internedCount();
    for (let i = 0; i < 10_000; i++) intern(`once-${i}`);
    assert.equal(internedCount(), kept, 'values seen once do not fill the table');
    for (let i = 0; i < 10_000; i++) {
      intern(`twice-${i}`);
      intern(`twice-${i}`);
    }
    assert.equal(internedCount(), 4096, `${internedCount()} strings kept`);
    const long = 'x'.repeat(129);
    intern(long);
    assert.ok(internedCount() <= 4096);
    assert.equal(intern(long), long);
    assert.equal(intern(undefined), undefined);
  });

  it('timestamps of objects written together share one copy, in a small table of their own', () => {
    const n = 20_000;
    // Parsed objects hold a copy of each timestamp; sharing them in place frees the copies. The
    // same objects with one-character timestamps (which JSON.parse shares itself) free what the
    // other fields' sharing frees: the difference is the timestamps'.
    const freedBy = (json: (i: number) => string) => {
      const objects = Array.from({ length: n }, (_, i) => JSON.parse(json(i)) as KubeObject);
      const before = liveHeap();
      for (const o of objects) internCommonStrings(o);
      const freed = before - liveHeap();
      assert.equal(objects.length, n);
      return freed;
    };
    const shortTimes = (i: number) => externalSecretJson(i).replace(/"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"/g, '"x"');
    const perObject = Math.round((freedBy(externalSecretJson) - freedBy(shortTimes)) / n);
    // Three timestamps of 20 characters (creationTimestamp, refreshTime, lastTransitionTime): ~40 bytes each.
    assert.ok(perObject >= 90, `sharing the timestamps freed ${perObject} B/object`);
    // The table forgets old seconds (it is emptied when full), always answers the same value, and
    // leaves the table of other shared values alone.
    const kept = internedCount();
    for (let i = 0; i < 1000; i++) {
      const t = `2026-12-01T00:${String(i % 60).padStart(2, '0')}:${String(Math.floor(i / 60)).padStart(2, '0')}Z`;
      assert.equal(internTimestamp(t), t);
      assert.equal(internTimestamp(t), t);
    }
    assert.equal(internedCount(), kept, 'the shared table is not filled with timestamps');
    assert.equal(internTimestamp(undefined), undefined);
  });
});
