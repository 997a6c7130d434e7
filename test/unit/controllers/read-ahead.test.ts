// The keys a store's read-ahead is given: ExternalSecrets still waiting for their first sync, and
// of a ClusterSecretStore only those in namespaces its conditions allow.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readAhead } from '../../../src/controllers/externalsecret.ts';
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

it('reads ahead only for unsynced ExternalSecrets of namespaces the ClusterSecretStore allows', () => {
  const all = [es('team-a', 'one', 'a/1'), es('team-b', 'two', 'b/secret'), es('team-a', 'three', 'a/2'), es('team-a', 'four', 'a/3', true), es('team-b', 'five', 'b/other')];
  const informer = { byIndex: (index: string, key: string) => (index === 'store' && key === 'ClusterSecretStore/shared' ? all : []) };
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
  const informer = { byIndex: (index: string, key: string) => (index === 'store' && key === 'ClusterSecretStore/shared' ? all : []) };
  const store = { id: 'ClusterSecretStore/shared@cfg', provider: 'fake' } as StoreHandle;
  const asked: string[] = [];
  const wanted = (ref: { key: string }) => (asked.push(ref.key), ref.key === 'k/2');
  assert.deepEqual(readAhead(informer, store, 20, wanted, () => true), [{ key: 'k/2' }]);
  assert.deepEqual(asked, ['k/0', 'k/1', 'k/2']);
});
