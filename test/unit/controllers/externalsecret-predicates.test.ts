// The event → key predicates of the ExternalSecret controller: which watch events wake which
// ExternalSecrets, and at what priority.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../src/kube/types.ts';
import { storeId, type AnyStore } from '../../../src/controllers/stores.ts';
import type { ES } from '../../../src/controllers/externalsecret-reconciler.ts';
import {
  addPriority, deletionStarted, externalSecretChanged, managedSecretChanged, namespaceLabelsChanged,
  storeBecameReady, storeChanged, storeRefKey, storesOf, syncedVersion,
} from '../../../src/controllers/externalsecret-predicates.ts';
import { anExternalSecret, withAnnotations, withLabels, withStore } from '../../fixtures/builders.ts';

const es = (...o: Parameters<typeof anExternalSecret>) => anExternalSecret(...o) as ES;
const withGeneration = (g: number) => (e: { metadata: { generation?: number } }) => { e.metadata.generation = g; };
const withStatus = (status: ES['status']) => (e: ES) => { e.status = status; };

function store(opts: { generation?: number; labels?: Record<string, string>; ready?: 'True' | 'False'; namespace?: string } = {}): AnyStore {
  return {
    apiVersion: 'external-secrets.io/v1',
    kind: 'SecretStore',
    metadata: { name: 'aws', namespace: opts.namespace ?? 'team-a', generation: opts.generation ?? 1, ...(opts.labels ? { labels: opts.labels } : {}) },
    spec: { provider: { fake: {} } },
    ...(opts.ready ? { status: { conditions: [{ type: 'Ready', status: opts.ready, reason: 'x', message: 'y' }] } } : {}),
  } as AnyStore;
}

describe('ExternalSecret events', () => {
  it('externalSecretChanged: spec (generation), labels and annotations count; a status write does not', () => {
    const a = es(withGeneration(1), withLabels({ team: 'a' }));
    assert.equal(externalSecretChanged(a, es(withGeneration(2), withLabels({ team: 'a' }))), true);
    assert.equal(externalSecretChanged(a, es(withGeneration(1), withLabels({ team: 'b' }))), true);
    assert.equal(externalSecretChanged(a, es(withGeneration(1), withLabels({ team: 'a' }), withAnnotations({ 'force-sync': '1' }))), true);
    const statusOnly = es(withGeneration(1), withLabels({ team: 'a' }), withStatus({ refreshTime: '2026-01-01T00:00:00Z' }));
    assert.equal(externalSecretChanged(a, statusOnly), false);
    assert.equal(externalSecretChanged(a, es(withGeneration(1), withLabels({ team: 'a', tier: 'x' }))), true, 'a label added');
    assert.equal(externalSecretChanged(es(withGeneration(1), withLabels({ a: '1', b: '2' })), es(withGeneration(1), withLabels({ b: '2', a: '1' }))), false, 'labels reordered');
    assert.equal(externalSecretChanged(es(withGeneration(1), withLabels({ a: '1' })), es(withGeneration(1), withLabels({ b: '1' }))), true, 'a label renamed');
    assert.equal(externalSecretChanged(es(withGeneration(1), withAnnotations({})), es(withGeneration(1))), false, 'no annotations and an empty map are the same');
  });

  it('externalSecretChanged agrees with a change of syncedVersion (what ESO compares)', () => {
    const variants = [
      es(withGeneration(1)), es(withGeneration(2)), es(withGeneration(1), withLabels({ a: '1' })), es(withGeneration(1), withLabels({ a: '2' })),
      es(withGeneration(1), withLabels({ a: '1', b: '' })), es(withGeneration(1), withAnnotations({ a: '1' })), es(withGeneration(1), withAnnotations({ a: '1' }), withLabels({ a: '1' })),
    ];
    for (const x of variants) for (const y of variants) assert.equal(externalSecretChanged(x, y), syncedVersion(x) !== syncedVersion(y));
  });

  it('syncedVersion ignores the order of labels', () => {
    assert.equal(syncedVersion(es(withLabels({ a: '1', b: '2' }))), syncedVersion(es(withLabels({ b: '2', a: '1' }))));
  });

  it('deletionStarted: the deletionTimestamp appears, or finalizers change while deleting', () => {
    const live = es();
    const deleting = es((e) => { e.metadata.deletionTimestamp = '2026-01-01T00:00:00Z'; e.metadata.finalizers = ['x', 'y']; });
    assert.equal(deletionStarted(live, deleting), true);
    assert.equal(deletionStarted(deleting, structuredClone(deleting)), false);
    const oneLess = structuredClone(deleting);
    oneLess.metadata.finalizers = ['y'];
    assert.equal(deletionStarted(deleting, oneLess), true);
    assert.equal(deletionStarted(live, es()), false);
  });

  it('the first list goes low (a restart), later adds go high (new objects)', () => {
    assert.equal(addPriority(true), 'low');
    assert.equal(addPriority(false), 'high');
    assert.equal(addPriority(true), 'low');
    assert.equal(addPriority(false), 'high');
  });
});

describe('store events', () => {
  it('storeChanged: generation or labels (order-insensitive), not status', () => {
    assert.equal(storeChanged(store({ generation: 1 }), store({ generation: 2 })), true);
    assert.equal(storeChanged(store({ labels: { a: '1' } }), store({ labels: { a: '2' } })), true);
    assert.equal(storeChanged(store({ labels: { a: '1', b: '2' } }), store({ labels: { b: '2', a: '1' } })), false);
    assert.equal(storeChanged(store({ ready: 'False' }), store({ ready: 'True' })), false);
  });

  it('storeBecameReady: Ready turns True from False or from no condition; not True → True only', () => {
    assert.equal(storeBecameReady(store({ ready: 'False' }), store({ ready: 'True' })), true);
    assert.equal(storeBecameReady(store(), store({ ready: 'True' })), true);
    assert.equal(storeBecameReady(store({ ready: 'True' }), store({ ready: 'True' })), false);
    assert.equal(storeBecameReady(store({ ready: 'True' }), store({ ready: 'False' })), false);
  });

  it('store keys: references and objects map to the same index key', () => {
    assert.equal(storeId('SecretStore', store()), storeRefKey({ name: 'aws', kind: 'SecretStore' }, 'team-a'));
    const css = { ...store(), kind: 'ClusterSecretStore', metadata: { name: 'shared' } } as AnyStore;
    assert.equal(storeId('ClusterSecretStore', css), storeRefKey({ name: 'shared', kind: 'ClusterSecretStore' }, 'team-a'));
    const e = es(withStore('main'), (x) => { x.spec.data = [{ secretKey: 'k', remoteRef: { key: 'r' }, sourceRef: { storeRef: { name: 'shared', kind: 'ClusterSecretStore' } } }]; });
    assert.deepEqual(storesOf(e).sort(), ['ClusterSecretStore/shared', 'SecretStore/team-a/main']);
  });
});

describe('Namespace and Secret events', () => {
  const ns = (labels?: Record<string, string>, rv = '1'): KubeObject => ({ metadata: { name: 'team-a', resourceVersion: rv, ...(labels ? { labels } : {}) } });
  it('namespaceLabelsChanged: a label change, not a reorder or another field', () => {
    assert.equal(namespaceLabelsChanged(ns({ tier: 'a' }), ns({ tier: 'b' })), true);
    assert.equal(namespaceLabelsChanged(ns(), ns({ tier: 'b' })), true);
    assert.equal(namespaceLabelsChanged(ns({ a: '1', b: '2' }), ns({ b: '2', a: '1' }, '2')), false);
  });
  it('managedSecretChanged: any new resourceVersion', () => {
    assert.equal(managedSecretChanged(ns(undefined, '1'), ns(undefined, '2')), true);
    assert.equal(managedSecretChanged(ns(undefined, '1'), ns(undefined, '1')), false);
  });
});
