// The ExternalSecret controller's bulkhead groups and caps (--store-concurrency,
// --namespace-concurrency): which keys share a cap, and the defaults.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bulkheadGroups, bulkheadLimits } from '../../../src/controllers/externalsecret.ts';
import { anExternalSecret, withNamespace, withStore } from '../../fixtures/builders.ts';

describe('bulkheads', () => {
  it('an ExternalSecret on a SecretStore counts against its namespace and that store', () => {
    const es = anExternalSecret(withNamespace('team-a'), withStore('vault'));
    assert.deepEqual(bulkheadGroups(es as never, 'team-a/app-db'), ['ns/team-a', 'SecretStore/team-a/vault']);
  });
  it('a ClusterSecretStore is shared by every tenant: only the namespace cap applies', () => {
    const es = anExternalSecret(withNamespace('team-b'), withStore('shared', 'ClusterSecretStore'));
    assert.deepEqual(bulkheadGroups(es as never, 'team-b/app-db'), ['ns/team-b']);
  });
  it('a deleted ExternalSecret still counts against its namespace', () => {
    assert.deepEqual(bulkheadGroups(undefined, 'team-c/gone'), ['ns/team-c']);
  });
  it('defaults: a quarter of the workers per store, half per namespace, never below one', () => {
    assert.deepEqual(bulkheadLimits({ concurrent: 16 }), { store: 4, namespace: 8, storeWorkers: 4 });
    assert.deepEqual(bulkheadLimits({ concurrent: 1 }), { store: 1, namespace: 1, storeWorkers: 2 });
    assert.deepEqual(bulkheadLimits({ concurrent: 16, storeConcurrency: 2, namespaceConcurrency: 3 }), { store: 2, namespace: 3, storeWorkers: 4 });
  });
});
