// The pure decisions of the ClusterExternalSecret controller: namespace selection (selectors ORed,
// names, the deprecated single selector, --namespace scope, terminating namespaces), ownership as
// ESO decides it, the ExternalSecret wanted per namespace, and the status ESO writes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterExternalSecret, ExternalSecret } from '../../../src/api/types.generated.ts';
import {
  CesMessage, clusterExternalSecretStatus, controllingCes, desiredExternalSecret, externalSecretDiffers, externalSecretNameOf,
  namespaceFinalizerOf, ownedBy, selects, statusDiffers, targetNamespaces, type NamespaceView,
} from '../../../src/controllers/clusterexternalsecret-plan.ts';
import { refreshTimeMs } from '../../../src/controllers/clusterexternalsecret.ts';

const esSpec = { secretStoreRef: { name: 'store', kind: 'ClusterSecretStore' as const }, refreshInterval: '1h0m0s', data: [{ secretKey: 'a', remoteRef: { key: 'k' } }] };

function ces(spec: Partial<ClusterExternalSecret['spec']> = {}, meta: Partial<ClusterExternalSecret['metadata']> = {}): ClusterExternalSecret {
  return { apiVersion: 'external-secrets.io/v1', kind: 'ClusterExternalSecret', metadata: { name: 'pull', uid: 'u-1', ...meta }, spec: { externalSecretSpec: esSpec, ...spec } };
}

const ns = (name: string, labels: Record<string, string> = {}, extra: Partial<NamespaceView> = {}): NamespaceView => ({ name, labels, terminating: false, finalizers: [], ...extra });
const cluster = [
  ns('team-a', { team: 'a', tier: 'prod' }),
  ns('team-b', { team: 'b', tier: 'dev' }),
  ns('team-c', { team: 'c' }),
  ns('kube-system'),
];

describe('namespace selection', () => {
  it('namespaceSelectors are ORed; each selector ANDs its requirements', () => {
    const spec = ces({ namespaceSelectors: [{ matchLabels: { team: 'a' } }, { matchExpressions: [{ key: 'tier', operator: 'In', values: ['dev'] }] }] }).spec;
    assert.deepEqual(targetNamespaces(spec, cluster), ['team-a', 'team-b']);
    const both = ces({ namespaceSelectors: [{ matchLabels: { team: 'a' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['dev'] }] }] }).spec;
    assert.deepEqual(targetNamespaces(both, cluster), []);
  });

  it('the deprecated namespaceSelector and namespaces (by name) add to namespaceSelectors', () => {
    const spec = ces({ namespaceSelector: { matchLabels: { team: 'c' } }, namespaceSelectors: [{ matchLabels: { team: 'a' } }], namespaces: ['kube-system', 'absent'] }).spec;
    assert.deepEqual(targetNamespaces(spec, cluster), ['kube-system', 'team-a', 'team-c']);
  });

  it('an empty selector selects every namespace; no selector selects none', () => {
    assert.deepEqual(targetNamespaces(ces({ namespaceSelectors: [{}] }).spec, cluster), ['kube-system', 'team-a', 'team-b', 'team-c']);
    assert.deepEqual(targetNamespaces(ces({}).spec, cluster), []);
  });

  it('Exists, DoesNotExist and NotIn as apimachinery reads them', () => {
    const sel = (operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist', values?: string[]) => ces({ namespaceSelectors: [{ matchExpressions: [{ key: 'tier', operator, ...(values ? { values } : {}) }] }] }).spec;
    assert.deepEqual(targetNamespaces(sel('Exists'), cluster), ['team-a', 'team-b']);
    assert.deepEqual(targetNamespaces(sel('DoesNotExist'), cluster), ['kube-system', 'team-c']);
    assert.deepEqual(targetNamespaces(sel('NotIn', ['prod']), cluster), ['kube-system', 'team-b', 'team-c']);
  });

  it('a terminating namespace is not provisioned; --namespace limits to one', () => {
    const spec = ces({ namespaceSelectors: [{}] }).spec;
    assert.deepEqual(targetNamespaces(spec, [ns('a'), ns('b', {}, { terminating: true })]), ['a']);
    assert.deepEqual(targetNamespaces(spec, cluster, 'team-b'), ['team-b']);
  });

  it('a selector the schema would refuse fails naming the field', () => {
    const spec = ces({ namespaceSelector: { matchLabels: { x: 'y' } }, namespaceSelectors: [{ matchExpressions: [{ key: 'k', operator: 'Near' as 'In' }] }] }).spec;
    assert.throws(() => selects(spec, ns('n', { k: 'v' })), /spec\.namespaceSelectors\[0\]: invalid label selector operator "Near"/);
  });

  it('names are sorted in Go byte order, as ESO sorts them', () => {
    const spec = ces({ namespaceSelectors: [{}] }).spec;
    assert.deepEqual(targetNamespaces(spec, [ns('b'), ns('a-b'), ns('a')]), ['a', 'a-b', 'b']);
  });
});

describe('ownership', () => {
  const es = (ownerReferences: NonNullable<ExternalSecret['metadata']['ownerReferences']>): ExternalSecret => ({ metadata: { name: 'pull', namespace: 'n', ownerReferences }, spec: esSpec });
  it('owned when the controller reference names a ClusterExternalSecret of this name (any version or uid, as ESO)', () => {
    assert.ok(ownedBy(es([{ apiVersion: 'external-secrets.io/v1beta1', kind: 'ClusterExternalSecret', name: 'pull', uid: 'old', controller: true }]), 'pull'));
    assert.equal(controllingCes(es([{ apiVersion: 'external-secrets.io/v1', kind: 'ClusterExternalSecret', name: 'pull', uid: 'x', controller: true }])), 'pull');
  });
  it('not owned: no controller reference, another name, another kind or group', () => {
    assert.ok(!ownedBy(es([]), 'pull'));
    assert.ok(!ownedBy(es([{ apiVersion: 'external-secrets.io/v1', kind: 'ClusterExternalSecret', name: 'pull', uid: 'x' }]), 'pull'), 'not the controller');
    assert.ok(!ownedBy(es([{ apiVersion: 'external-secrets.io/v1', kind: 'ClusterExternalSecret', name: 'other', uid: 'x', controller: true }]), 'pull'));
    assert.ok(!ownedBy(es([{ apiVersion: 'example.com/v1', kind: 'ClusterExternalSecret', name: 'pull', uid: 'x', controller: true }]), 'pull'));
    assert.ok(!ownedBy(es([{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'pull', uid: 'x', controller: true }]), 'pull'));
    assert.equal(controllingCes(es([{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'pull', uid: 'x', controller: true }])), undefined);
  });
});

describe('the ExternalSecret wanted in a namespace', () => {
  it('name defaults to the ClusterExternalSecret\'s; spec copied; controller owner reference; metadata as given', () => {
    const c = ces({ externalSecretMetadata: { labels: { app: 'x' }, annotations: { note: 'y' } } });
    const d = desiredExternalSecret(c, 'team-a');
    assert.equal(externalSecretNameOf(c), 'pull');
    assert.equal(externalSecretNameOf(ces({ externalSecretName: 'regcred' })), 'regcred');
    assert.deepEqual(d.metadata, {
      name: 'pull', namespace: 'team-a', labels: { app: 'x' }, annotations: { note: 'y' },
      ownerReferences: [{ apiVersion: 'external-secrets.io/v1', kind: 'ClusterExternalSecret', name: 'pull', uid: 'u-1', controller: true, blockOwnerDeletion: true }],
    });
    assert.deepEqual(d.spec, esSpec);
    assert.notEqual(d.spec, esSpec, 'a copy');
  });

  it('the ClusterExternalSecret\'s force-sync annotation is passed on, and removed when it goes', () => {
    const withForce = desiredExternalSecret(ces({}, { annotations: { 'force-sync': '123' } }), 'n');
    assert.equal(withForce.metadata.annotations?.['force-sync'], '123');
    const without = desiredExternalSecret(ces({ externalSecretMetadata: { annotations: { 'force-sync': 'stale' } } }), 'n');
    assert.equal(without.metadata.annotations, undefined);
  });

  it('an unchanged ExternalSecret is not written; a changed spec, label or owner is', () => {
    const c = ces({ externalSecretMetadata: { labels: { app: 'x' } } });
    const existing = { ...desiredExternalSecret(c, 'n'), metadata: { ...desiredExternalSecret(c, 'n').metadata, resourceVersion: '7', uid: 'es-uid' } };
    const again = desiredExternalSecret(c, 'n', existing);
    assert.equal(again.metadata.resourceVersion, '7');
    assert.ok(!externalSecretDiffers(existing, again));
    assert.ok(externalSecretDiffers(existing, desiredExternalSecret(ces({ externalSecretMetadata: { labels: { app: 'z' } } }), 'n', existing)));
    assert.ok(externalSecretDiffers(existing, desiredExternalSecret(ces({ externalSecretMetadata: { labels: { app: 'x' } }, externalSecretSpec: { ...esSpec, refreshInterval: '5m' } }), 'n', existing)));
    assert.ok(externalSecretDiffers(existing, desiredExternalSecret(ces({ externalSecretMetadata: { labels: { app: 'x' } } }, { uid: 'u-2' }), 'n', existing)), 'a recreated ClusterExternalSecret takes it over');
  });

  it('an update keeps the rest of the existing metadata (finalizers, uid, resourceVersion)', () => {
    const existing: ExternalSecret = { metadata: { name: 'pull', namespace: 'n', uid: 'es-uid', resourceVersion: '9', finalizers: ['externalsecrets.external-secrets.io/externalsecret-cleanup'], labels: { stray: 'x' } }, spec: esSpec };
    const d = desiredExternalSecret(ces(), 'n', existing);
    assert.deepEqual(d.metadata.finalizers, ['externalsecrets.external-secrets.io/externalsecret-cleanup']);
    assert.equal(d.metadata.uid, 'es-uid');
    assert.equal(d.metadata.resourceVersion, '9');
    assert.equal(d.metadata.labels, undefined, 'labels are exactly externalSecretMetadata\'s');
  });

  it('other (non-controller) owner references are kept', () => {
    const other = { apiVersion: 'v1', kind: 'ConfigMap', name: 'keep', uid: 'cm' };
    const existing: ExternalSecret = { metadata: { name: 'pull', namespace: 'n', ownerReferences: [other] }, spec: esSpec };
    assert.deepEqual(desiredExternalSecret(ces(), 'n', existing).metadata.ownerReferences?.[1], other);
  });
});

describe('status', () => {
  it('all provisioned: Ready True without a message, namespaces sorted, no failedNamespaces', () => {
    const s = clusterExternalSecretStatus(undefined, 'pull', ['b', 'a'], new Map());
    assert.deepEqual(s, { externalSecretName: 'pull', conditions: [{ type: 'Ready', status: 'True' }], provisionedNamespaces: ['a', 'b'] });
  });

  it('a failure: Ready False with ESO\'s message; failures sorted by namespace with their reason', () => {
    const s = clusterExternalSecretStatus({ conditions: [{ type: 'Ready', status: 'True' }, { type: 'Other', status: 'True' }] }, 'pull', ['a'],
      new Map([['z', CesMessage.alreadyExists], ['c', CesMessage.createFailed('the API server refused it (403 Forbidden)')]]));
    assert.deepEqual(s.failedNamespaces, [
      { namespace: 'c', reason: 'could not create or update ExternalSecret: the API server refused it (403 Forbidden)' },
      { namespace: 'z', reason: 'external secret already exists in namespace' },
    ]);
    assert.deepEqual(s.conditions, [{ type: 'Other', status: 'True' }, { type: 'Ready', status: 'False', message: 'one or more namespaces failed' }]);
  });

  it('the same status is not written again; absent and empty lists are the same', () => {
    const s = clusterExternalSecretStatus(undefined, 'pull', [], new Map());
    assert.ok(!statusDiffers({ ...s, provisionedNamespaces: [] }, s));
    assert.ok(statusDiffers(s, clusterExternalSecretStatus(undefined, 'pull', ['a'], new Map())));
    assert.ok(statusDiffers(undefined, s));
  });
});

describe('refreshTime and ESO\'s namespace finalizer', () => {
  it('refreshTime defaults to 1h as ESO; 0 means no periodic pass', () => {
    assert.equal(refreshTimeMs(ces()), 3_600_000);
    assert.equal(refreshTimeMs(ces({ refreshTime: '90s' })), 90_000);
    assert.equal(refreshTimeMs(ces({ refreshTime: '0' })), 0);
  });
  it('the namespace finalizer is ESO\'s name for this ClusterExternalSecret', () => {
    assert.equal(namespaceFinalizerOf('pull'), 'externalsecrets.external-secrets.io/ces-pull');
  });
});

describe('docs/errors.md', () => {
  it('documents every ClusterExternalSecret status text', async () => {
    const { readFileSync } = await import('node:fs');
    const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('\n## ClusterExternalSecret\n'));
    for (const text of [CesMessage.alreadyExists, CesMessage.namespacesFailed, CesMessage.createFailed('…'), CesMessage.deleteFailed('…'), CesMessage.selectFailed('…')]) {
      assert.ok(section.includes(`\`${text}\``), `docs/errors.md documents "${text}"`);
    }
  });
});
