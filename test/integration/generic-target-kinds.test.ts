// ESO 2.9's generic targets of kinds other than ConfigMap, through the operator under its shipped
// RBAC: a custom resource (a CRD created here) written with data in spec.data, repaired after a
// hand edit (from a watch on the kind) and collected with its ExternalSecret; a built-in kind (NetworkPolicy) built from
// templateFrom paths; a foreign object never overwritten; a missing kind, a cluster-scoped kind
// and a refused kind reported in status naming spec.target.manifest; and a kind the operator's
// RBAC does not grant reported as forbidden. The operator has its own --controller-class.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { KubeClient } from '../../src/kube/client.ts';
import type { KubeObject, ResourceType } from '../../src/kube/types.ts';
import { applyManifests, resetDiscovery } from '../../src/kube/manifests.ts';
import { externalSecrets, secretStores } from '../../src/controllers/resources.ts';
import { adminClient, freshNamespace, peers, uniqueName, waitFor, waitReady } from './helpers.ts';
import { withOurCrd } from './eso29-crd-guard.ts';
import { installTessera, startOperator } from './operator.ts';

const controllerClass = `generic-kinds-${randomBytes(3).toString('hex')}`;
const GROUP = 'generic.tessera-test.example';
const appConfigs: ResourceType = { group: GROUP, version: 'v1', plural: 'appconfigs', kind: 'AppConfig', namespaced: true };
const networkPolicies: ResourceType = { group: 'networking.k8s.io', version: 'v1', plural: 'networkpolicies', kind: 'NetworkPolicy', namespaced: true };
let admin: KubeClient;
let ns: string;

type Obj = KubeObject & { spec?: Record<string, unknown> };

function crd(plural: string, kind: string, scope: 'Namespaced' | 'Cluster'): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${GROUP}` },
    spec: {
      group: GROUP,
      scope,
      names: { plural, singular: kind.toLowerCase(), kind, listKind: `${kind}List` },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }, data: { type: 'object', additionalProperties: { type: 'string' } } } } } }],
    },
  } as KubeObject;
}

function externalSecret(name: string, manifest: { apiVersion: string; kind: string }, target: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'external-secrets.io/v1',
    kind: 'ExternalSecret',
    metadata: { name, namespace: ns },
    spec: {
      secretStoreRef: { name: 'fake' },
      refreshInterval: '1s',
      target: { manifest, ...target },
      data: [{ secretKey: 'url', remoteRef: { key: 'url' } }, { secretKey: 'cidr', remoteRef: { key: 'cidr' } }],
    },
  } as KubeObject;
}

const appConfig = { apiVersion: `${GROUP}/v1`, kind: 'AppConfig' };

before(async () => {
  const env = await peers();
  admin = await adminClient();
  await installTessera(admin);
  await applyManifests(admin, [crd('appconfigs', 'AppConfig', 'Namespaced'), crd('clusterconfigs', 'ClusterConfig', 'Cluster'), crd('ungranteds', 'Ungranted', 'Namespaced')]);
  await waitFor('the test CRDs to be listable', () => admin.request('GET', `/apis/${GROUP}/v1/appconfigs?limit=1`).then(() => true, () => false), 60_000);
  await waitFor('ungranteds to be listable', () => admin.request('GET', `/apis/${GROUP}/v1/ungranteds?limit=1`).then(() => true, () => false), 60_000);
  resetDiscovery(admin);
  ns = await freshNamespace(admin, 'generic-kinds');
  // What deploy/rbac/generic-targets.yaml tells users to add for each kind, here bound in the
  // test namespace only: appconfigs and networkpolicies, not ungranteds.
  await applyManifests(admin, [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'tessera-generic-targets-test' },
      rules: [{ apiGroups: [GROUP], resources: ['appconfigs', 'clusterconfigs'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
        { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] }] } as KubeObject,
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'tessera-generic-targets-test', namespace: ns },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'tessera-generic-targets-test' },
      subjects: [{ kind: 'ServiceAccount', name: 'tessera', namespace: 'tessera-system' }] } as KubeObject,
  ]);
  await startOperator(admin, env, [`--controller-class=${controllerClass}`, '--unsafe-allow-generic-targets']);
  await admin.create(secretStores, {
    apiVersion: 'external-secrets.io/v1', kind: 'SecretStore', metadata: { name: 'fake', namespace: ns },
    spec: { controller: controllerClass, provider: { fake: { data: [{ key: 'url', value: 'https://one.example' }, { key: 'cidr', value: '10.0.0.0/8' }] } } },
  } as KubeObject);
});

describe('spec.target.manifest: other kinds', () => {
  it('writes a custom resource with the data in spec.data, repairs a hand edit and goes with its ExternalSecret', () => withOurCrd(admin, ['manifest'], async () => {
    const name = uniqueName('app');
    await admin.create(externalSecrets, externalSecret(name, appConfig));
    const ready = await waitReady(admin, ns, name, 'True', /./, 60_000);
    assert.equal(ready.reason, 'ResourceSynced');
    const obj = await admin.get<Obj>(appConfigs, ns, name);
    assert.deepEqual(obj.spec, { data: { url: 'https://one.example', cidr: '10.0.0.0/8' } });
    assert.equal(obj.metadata?.labels?.['reconcile.external-secrets.io/managed'], 'true');
    assert.match(obj.metadata?.annotations?.['reconcile.external-secrets.io/data-hash'] ?? '', /^[0-9a-f]{56}$/);
    const owner = obj.metadata?.ownerReferences?.find((r) => r.controller === true);
    assert.equal(owner?.kind, 'ExternalSecret');
    assert.equal(owner?.name, name);

    // A hand edit is repaired by the watch on the kind's managed objects, not by the next refresh.
    await admin.patch(externalSecrets, ns, name, 'merge', { spec: { refreshInterval: '1h' } });
    await waitFor(`${name} synced its 1h refreshInterval`, async () => {
      const es = await admin.get<KubeObject & { status?: { syncedResourceVersion?: string } }>(externalSecrets, ns, name);
      return es.status?.syncedResourceVersion?.startsWith(`${es.metadata?.generation ?? 0}-`) ? true : undefined;
    }, 30_000);
    await admin.patch(appConfigs, ns, name, 'merge', { spec: { data: { url: 'https://edited.example' }, extra: 'x' } });
    await waitFor('the hand edit repaired from the watch', async () => {
      const now = await admin.get<Obj>(appConfigs, ns, name);
      return (now.spec?.data as Record<string, string> | undefined)?.url === 'https://one.example' && now.spec?.extra === undefined ? true : undefined;
    }, 30_000);

    const uid = obj.metadata?.uid;
    await admin.delete(externalSecrets, ns, name);
    await waitFor('the AppConfig collected with its ExternalSecret', async () => {
      const now = await admin.tryGet<Obj>(appConfigs, ns, name);
      return now === undefined || now.metadata?.uid !== uid ? true : undefined;
    }, 60_000);
  }));

  it('builds a built-in kind from templateFrom paths (a NetworkPolicy, as ESO docs build an AuthorizationPolicy)', () => withOurCrd(admin, ['manifest'], async () => {
    const name = uniqueName('netpol');
    await admin.create(externalSecrets, externalSecret(name, { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' }, {
      template: {
        engineVersion: 'v2',
        templateFrom: [
          { target: 'spec.podSelector', literal: 'matchLabels:\n  app: demo\n' },
          { target: 'spec.policyTypes', literal: '- Ingress\n' },
          { target: 'spec.ingress[0].from[0].ipBlock', literal: 'cidr: {{ .cidr }}\n' },
        ],
      },
    }));
    await waitReady(admin, ns, name, 'True', /./, 60_000);
    const np = await admin.get<Obj>(networkPolicies, ns, name);
    assert.deepEqual(np.spec?.podSelector, { matchLabels: { app: 'demo' } });
    assert.deepEqual(np.spec?.ingress, [{ from: [{ ipBlock: { cidr: '10.0.0.0/8' } }] }]);
    assert.equal(np.metadata?.labels?.['reconcile.external-secrets.io/managed'], 'true');
  }));

  it('never overwrites an object it did not create', () => withOurCrd(admin, ['manifest'], async () => {
    const name = uniqueName('takeover');
    const theirs = uniqueName('theirs');
    await admin.create(appConfigs, { apiVersion: appConfig.apiVersion, kind: 'AppConfig', metadata: { name: theirs, namespace: ns }, spec: { data: { url: 'mine' } } } as KubeObject);
    await admin.create(externalSecrets, externalSecret(name, appConfig, { name: theirs }));
    const failed = await waitReady(admin, ns, name, 'False', /not managed by this ExternalSecret/, 60_000);
    assert.equal(failed.reason, 'ResourceSyncedError');
    const obj = await admin.get<Obj>(appConfigs, ns, theirs);
    assert.deepEqual(obj.spec, { data: { url: 'mine' } });
    assert.equal(obj.metadata?.ownerReferences, undefined);
  }));

  it('reports a missing kind, a missing apiVersion, a cluster-scoped kind and a refused kind, naming spec.target.manifest', () => withOurCrd(admin, ['manifest'], async () => {
    const cases: Array<[{ apiVersion: string; kind: string }, RegExp]> = [
      [{ apiVersion: `${GROUP}/v1`, kind: 'Missing' }, /serves no kind "Missing"/],
      [{ apiVersion: 'nothere.tessera-test.example/v1', kind: 'AppConfig' }, /does not serve apiVersion/],
      [{ apiVersion: `${GROUP}/v1`, kind: 'ClusterConfig' }, /cluster-scoped/],
      [{ apiVersion: 'v1', kind: 'Secret' }, /remove spec\.target\.manifest/],
    ];
    for (const [manifest, why] of cases) {
      const name = uniqueName('refused');
      await admin.create(externalSecrets, externalSecret(name, manifest));
      const failed = await waitReady(admin, ns, name, 'False', why, 60_000);
      assert.match(failed.message ?? '', /spec\.target\.manifest/, manifest.kind);
      assert.match(failed.message ?? '', /invalid generic target/, manifest.kind);
    }
    assert.equal(await admin.request('GET', `/apis/${GROUP}/v1/clusterconfigs`).then((l) => (l as { items: unknown[] }).items.length), 0);
  }));

  it('says the write is forbidden when the operator has no RBAC for the kind', () => withOurCrd(admin, ['manifest'], async () => {
    const name = uniqueName('ungranted');
    await admin.create(externalSecrets, externalSecret(name, { apiVersion: `${GROUP}/v1`, kind: 'Ungranted' }));
    const failed = await waitReady(admin, ns, name, 'False', /forbidden/i, 60_000);
    assert.equal(failed.reason, 'ResourceSyncedError');
  }));
});
