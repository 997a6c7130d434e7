// Tenant isolation from the schema: every field of a provider config that refers to a namespaced
// object (Secret, ConfigMap, ServiceAccount) is found from the CRD schema, and for a SecretStore
// each one's `namespace` is refused unless it is the store's own, as ESO refuses it. The table of
// cases is generated from the schema, so a reference field added to a provider is covered here
// without anyone remembering to add it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { referencesIn, storeReferenceFields, type ReferenceField } from '../../../src/api/references.ts';
import { foreignNamespaceReferences, hasNamespaceRelativeRefs, StoreClients, type AnyStore } from '../../../src/controllers/stores.ts';
import type { KubeClient } from '../../../src/kube/client.ts';
import { createLogger } from '../../../src/log.ts';

/** A provider config holding one reference at `ref.path` (list items: one element). */
function configWith(ref: ReferenceField, value: Record<string, unknown>): Record<string, unknown> {
  const build = (i: number): unknown => {
    if (i === ref.path.length) return value;
    const seg = ref.path[i]!;
    return seg === '*' ? [build(i + 1)] : { [seg]: build(i + 1) };
  };
  return build(0) as Record<string, unknown>;
}

const concrete = (field: string) => field.replace(/\[\*\]/g, '[0]');

describe('reference fields from the schema', () => {
  const fields = storeReferenceFields();
  const names = new Set(fields.map((f) => f.field));

  it('include caProvider and every selector a field-name guess missed', () => {
    for (const f of [
      'spec.provider.vault.caProvider',
      'spec.provider.kubernetes.server.caProvider',
      'spec.provider.kubernetes.auth.token.bearerToken',
      'spec.provider.kubernetes.auth.cert.clientCert',
      'spec.provider.kubernetes.auth.cert.clientKey',
      'spec.provider.kubernetes.auth.serviceAccount',
      'spec.provider.kubernetes.authRef',
      'spec.provider.vault.auth.cert.clientCert',
      'spec.provider.vault.tls.certSecretRef',
      'spec.provider.vault.auth.kubernetes.serviceAccountRef',
      'spec.provider.aws.auth.secretRef.accessKeyIDSecretRef',
      'spec.provider.aws.auth.jwt.serviceAccountRef',
    ]) {
      assert.ok(names.has(f), `${f} is a reference field`);
    }
    assert.equal(fields.find((f) => f.field === 'spec.provider.vault.caProvider')?.type, 'CAProvider');
    assert.ok(fields.length >= 25, `found ${fields.length}`);
  });

  it('referencesIn finds a set reference by its concrete field, and nothing else', () => {
    const found = referencesIn('vault', { server: 'https://v', caProvider: { type: 'Secret', name: 'ca', namespace: 'x' }, auth: { tokenSecretRef: { name: 't', key: 'k' } } });
    assert.deepEqual(found.map((r) => [r.field, r.namespace]).sort(), [['spec.provider.vault.auth.tokenSecretRef', undefined], ['spec.provider.vault.caProvider', 'x']]);
    assert.deepEqual(referencesIn('vault', 'not an object'), []);
    assert.deepEqual(referencesIn('aws', { auth: { secretRef: ['not', 'an', 'object'] } }), []);
  });
});

describe('a SecretStore may not reference another namespace (every reference field, from the schema)', () => {
  for (const ref of storeReferenceFields()) {
    it(`${ref.field}.namespace`, () => {
      const other = configWith(ref, { type: 'Secret', name: 'creds', key: 'k', namespace: 'other' });
      const problems = foreignNamespaceReferences('SecretStore', 'team-a', ref.provider, other);
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.ok(problems[0]!.startsWith(`${concrete(ref.field)}.namespace: "other": namespace should either be empty or match the namespace of the SecretStore ("team-a")`), problems[0]);

      const own = configWith(ref, { type: 'Secret', name: 'creds', key: 'k', namespace: 'team-a' });
      assert.deepEqual(foreignNamespaceReferences('SecretStore', 'team-a', ref.provider, own), [], 'its own namespace is allowed');
      const none = configWith(ref, { type: 'Secret', name: 'creds', key: 'k' });
      assert.deepEqual(foreignNamespaceReferences('SecretStore', 'team-a', ref.provider, none), [], 'no namespace: its own');
      assert.deepEqual(foreignNamespaceReferences('ClusterSecretStore', undefined, ref.provider, other), [], 'a ClusterSecretStore may');
      // A ClusterSecretStore's namespace-less reference resolves per ExternalSecret namespace.
      assert.equal(hasNamespaceRelativeRefs(ref.provider, none), true);
      assert.equal(hasNamespaceRelativeRefs(ref.provider, other), false);
    });
  }
});

describe('StoreClients refuses such a store before building a client', () => {
  const silent = createLogger('error', new Writable({ write: (_c, _e, cb) => cb() }));
  // No apiserver call may happen: the refusal comes from the spec alone.
  const kube = new Proxy({}, { get: () => () => { throw new Error('no apiserver call expected'); } }) as unknown as KubeClient;
  const clients = new StoreClients({ kube, logger: silent });
  const vaultStore = (caNamespace: string | undefined): AnyStore => ({
    apiVersion: 'external-secrets.io/v1', kind: 'SecretStore',
    metadata: { name: 'vault', namespace: 'team-a', uid: 'u', generation: 1 },
    spec: { provider: { vault: { server: 'https://vault.example:8200', path: 'secret', version: 'v2', auth: { tokenSecretRef: { name: 't', key: 'token' } }, caProvider: { type: 'ConfigMap', name: 'ca', key: 'ca.crt', ...(caNamespace ? { namespace: caNamespace } : {}) } } } },
  }) as unknown as AnyStore;

  it('probe: the caProvider namespace is a problem naming the field (store Ready=False)', async () => {
    const { problems, client } = await clients.probe('SecretStore', vaultStore('kube-system'));
    assert.equal(client, undefined);
    assert.deepEqual(problems, ['spec.provider.vault.caProvider.namespace: "kube-system": namespace should either be empty or match the namespace of the SecretStore ("team-a")']);
  });

  it('clientFor: refused with the same words', async () => {
    await assert.rejects(clients.clientFor('SecretStore', vaultStore('kube-system'), 'team-a'), /spec\.provider\.vault\.caProvider\.namespace: "kube-system"/);
  });
});

describe('StoreClients retires an evicted client instead of closing it under a read', () => {
  const silent = createLogger('error', new Writable({ write: (_c, _e, cb) => cb() }));
  const kube = new Proxy({}, { get: () => () => { throw new Error('no apiserver call expected'); } }) as unknown as KubeClient;
  const fakeStore = (generation: number): AnyStore => ({
    apiVersion: 'external-secrets.io/v1', kind: 'SecretStore',
    metadata: { name: 'fake', namespace: 'team-a', uid: 'u', generation },
    spec: { provider: { fake: { data: [{ key: 'k', value: 'v' }] } } },
  }) as unknown as AnyStore;

  it('evict (a store that turned Ready): the old client stays open until the grace ends, the next read gets a new one', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const clients = new StoreClients({ kube, logger: silent, retireAfterMs: 60_000 });
    const first = await clients.clientFor('SecretStore', fakeStore(1), 'team-a');
    let closed = 0;
    first.client.close = async () => void closed++;
    clients.evict('SecretStore', fakeStore(1));
    assert.equal(closed, 0, 'a read in flight on the evicted client is not cut');
    assert.equal(clients.retired, 1);
    const second = await clients.clientFor('SecretStore', fakeStore(1), 'team-a');
    assert.notEqual(second.client, first.client, 'the next read builds a new client');
    assert.equal(second.id, first.id, 'under the same identity: values read before stay shared');
    t.mock.timers.tick(59_999);
    assert.equal(closed, 0);
    t.mock.timers.tick(1);
    assert.equal(closed, 1, 'closed once the grace is over');
    assert.equal(clients.retired, 0);
    await clients.closeAll();
    assert.equal(closed, 1, 'not closed twice');
  });

  it('a changed store: the replaced client is retired too, and closeAll closes retired clients at once', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const clients = new StoreClients({ kube, logger: silent });
    const first = await clients.clientFor('SecretStore', fakeStore(1), 'team-a');
    let closed = 0;
    first.client.close = async () => void closed++;
    const second = await clients.clientFor('SecretStore', fakeStore(2), 'team-a');
    assert.notEqual(second.id, first.id);
    assert.equal(closed, 0);
    assert.equal(clients.retired, 1);
    await clients.closeAll();
    assert.equal(closed, 1);
    assert.equal(clients.retired, 0);
  });

  it('a store edited in a loop holds one retired client, not one per edit, and another tenant\'s client is untouched', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const clients = new StoreClients({ kube, logger: silent, retireAfterMs: 60_000 });
    const other = (generation: number): AnyStore => {
      const s = fakeStore(generation);
      return { ...s, metadata: { ...s.metadata, namespace: 'team-b', uid: 'u-b' } } as AnyStore;
    };
    const calm = await clients.clientFor('SecretStore', other(1), 'team-b');
    let calmClosed = 0;
    calm.client.close = async () => void calmClosed++;
    let closed = 0;
    const edits = 1_000;
    for (let g = 1; g <= edits; g++) {
      // Each edit of the hostile store is followed by a read through it (a new client per edit).
      const h = await clients.clientFor('SecretStore', fakeStore(g), 'team-a');
      h.client.close = async () => void closed++;
      // Meanwhile the other tenant keeps reading through its own, unchanged client.
      assert.equal((await clients.clientFor('SecretStore', other(1), 'team-b')).client, calm.client);
    }
    assert.equal(clients.retired, 1, 'only the latest replaced client waits for its grace');
    assert.equal(closed, edits - 2, 'every older replaced client is closed at once (the live one and the retired one stay open)');
    assert.equal(calmClosed, 0);
    t.mock.timers.tick(60_000);
    assert.equal(clients.retired, 0);
    assert.equal(closed, edits - 1, 'the retired one is closed when its grace ends, once');
    await clients.closeAll();
    assert.equal(closed, edits);
    assert.equal(calmClosed, 1);
  });
});
