// The keys a store's read-ahead is given: ExternalSecrets still waiting for their first sync, and
// of a ClusterSecretStore only those in namespaces its conditions allow.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readAhead, type JudgedExternalSecrets } from '../../../src/controllers/externalsecret.ts';
import type { ExternalSecret } from '../../../src/api/types.generated.ts';
import type { StoreHandle } from '../../../src/providers/reader.ts';

const es = (namespace: string, name: string, key: string, synced = false): ExternalSecret =>
  ({
    apiVersion: 'external-secrets.io/v1',
    kind: 'ExternalSecret',
    metadata: { namespace, name },
    spec: { secretStoreRef: { kind: 'ClusterSecretStore', name: 'shared' }, data: [{ secretKey: 'v', remoteRef: { key } }] },
    ...(synced ? { status: { syncedResourceVersion: '1-abc' } } : {}),
  }) as ExternalSecret;

/** The informer's store index as readAhead walks it: `all` under the shared ClusterSecretStore; `visit` counts each object handed out. */
const storeIndex = (all: ExternalSecret[], visit: () => void = () => {}) => ({
  eachByIndex(index: string, key: string, fn: (o: ExternalSecret) => boolean | void): void {
    if (index !== 'store' || key !== 'ClusterSecretStore/shared') return;
    for (const o of all) {
      visit();
      if (fn(o) === false) return;
    }
  },
});

it('reads ahead only for unsynced ExternalSecrets of namespaces the ClusterSecretStore allows', () => {
  const all = [es('team-a', 'one', 'a/1'), es('team-b', 'two', 'b/secret'), es('team-a', 'three', 'a/2'), es('team-a', 'four', 'a/3', true), es('team-b', 'five', 'b/other')];
  const informer = storeIndex(all);
  const store = { id: 'ClusterSecretStore/shared@cfg', provider: 'fake' } as StoreHandle;
  const asked: string[] = [];
  const allows = (name: string, ns: string) => (asked.push(`${name}:${ns}`), ns === 'team-a');
  assert.deepEqual(readAhead(informer, store, 20, () => true, allows), [{ key: 'a/1' }, { key: 'a/2' }]);
  assert.deepEqual(asked.sort(), ['shared:team-a', 'shared:team-b'], 'asked once per namespace');
  assert.deepEqual(readAhead(informer, store, 20, () => true, () => true).map((k) => k.key), ['a/1', 'b/secret', 'a/2', 'b/other']);
  assert.deepEqual(readAhead(informer, store, 1, () => true, () => true).map((k) => k.key), ['a/1'], 'no more than the room');
});

it('asks the reader about each key once per pass, whether it takes it or not', () => {
  // 300 ExternalSecrets over 3 keys, none synced; the reader wants only 'k/2'.
  const all = Array.from({ length: 300 }, (_, i) => es('team-a', `es-${i}`, `k/${i % 3}`));
  const informer = storeIndex(all);
  const store = { id: 'ClusterSecretStore/shared@cfg', provider: 'fake' } as StoreHandle;
  const asked: string[] = [];
  const wanted = (ref: { key: string }) => (asked.push(ref.key), ref.key === 'k/2');
  assert.deepEqual(readAhead(informer, store, 20, wanted, () => true), [{ key: 'k/2' }]);
  assert.deepEqual(asked, ['k/0', 'k/1', 'k/2']);
});

it('skips ExternalSecrets whose keys a pass judged, for a while; a changed object or the time passing brings them back', () => {
  // 1,000 ExternalSecrets over 10 keys, all cached already: the reader wants none of them.
  const all = Array.from({ length: 1000 }, (_, i) => es('team-a', `es-${i}`, `k/${i % 10}`));
  let visited = 0;
  const informer = storeIndex(all, () => visited++);
  const store = { id: 'ClusterSecretStore/shared@cfg', provider: 'fake' } as StoreHandle;
  let now = 1_000;
  const judged: JudgedExternalSecrets = { at: new WeakMap(), now: () => now };
  const asked: string[] = [];
  const wanted = (ref: { key: string }) => (asked.push(ref.key), false);
  const pass = () => ((asked.length = 0), readAhead(informer, store, 20, wanted, () => true, judged));

  assert.deepEqual(pass(), []);
  assert.equal(asked.length, 10, 'the first pass judges each key once');
  assert.deepEqual(pass(), []);
  assert.deepEqual(asked, [], 'the next pass asks about none of them');
  all[7] = { ...all[7]!, metadata: { ...all[7]!.metadata, resourceVersion: '2' } } as ExternalSecret;
  assert.deepEqual(pass(), []);
  assert.deepEqual(asked, ['k/7'], 'a changed object is judged again');
  now += 10_000;
  assert.deepEqual(pass(), []);
  assert.equal(asked.length, 10, 'after a while, all are judged again');
  assert.ok(visited >= 4000, 'each pass walked the index');

  // Without the memo every pass judges every key again.
  asked.length = 0;
  readAhead(informer, store, 20, wanted, () => true);
  readAhead(informer, store, 20, wanted, () => true);
  assert.equal(asked.length, 20);
});

it('an ExternalSecret with a key left unjudged for lack of room is looked at again in the next pass', () => {
  const two = (name: string, a: string, b: string) =>
    ({ ...es('team-a', name, a), spec: { secretStoreRef: { kind: 'ClusterSecretStore', name: 'shared' }, data: [{ secretKey: 'a', remoteRef: { key: a } }, { secretKey: 'b', remoteRef: { key: b } }] } }) as ExternalSecret;
  const all = [two('one', 'x/1', 'x/2'), two('two', 'x/3', 'x/4')];
  const informer = storeIndex(all);
  const store = { id: 'ClusterSecretStore/shared@cfg', provider: 'fake' } as StoreHandle;
  const judged: JudgedExternalSecrets = { at: new WeakMap(), now: () => 0 };
  const inFlight = new Set<string>();
  const wanted = (ref: { key: string }) => !inFlight.has(ref.key);
  const pass = (room: number) => readAhead(informer, store, room, wanted, () => true, judged).map((k) => (inFlight.add(k.key), k.key));
  assert.deepEqual(pass(1), ['x/1']);
  assert.deepEqual(pass(1), ['x/2'], 'x/2 had no room in the first pass');
  assert.deepEqual(pass(2), ['x/3', 'x/4'], 'the first ExternalSecret is judged; the second is read ahead');
  assert.deepEqual(pass(2), []);
});
