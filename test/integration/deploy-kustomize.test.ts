// deploy/default as a platform team installs it (`kubectl apply --server-side -k`, or Argo CD):
// rendered with the real kustomize, checked for what an install needs, then server-side applied
// to the peers under a namespace and names of this test's own (the shared CRDs with dryRun=All).
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { allCrds } from '../../src/api/crds.ts';
import { parseManifests } from '../../src/kube/manifests.ts';
import type { KubeObject } from '../../src/kube/types.ts';
import { repoRoot } from '../peers/index.ts';
import { runTool } from '../peers/tools.ts';
import { adminClient, onCleanup, peers, uniqueName } from './helpers.ts';
import { aggregatedRoles, applyRendering, checkInstallable, checkOnPeers, kustomizeInto, packageVersion } from './deploy-install.ts';

const render = async (dir: string) => parseManifests(await runTool('kustomize', ['build', dir])) as Array<KubeObject & { spec?: any }>;

describe('deploy/default rendered by kustomize', () => {
  let objects: Array<KubeObject & { spec?: any }>;
  before(async () => {
    objects = await render('deploy/default');
  });

  it('holds the namespace, CRDs, RBAC, Deployment, metrics Service and PodDisruptionBudget', () => {
    const kinds = new Set(objects.map((o) => o.kind));
    for (const k of ['Namespace', 'CustomResourceDefinition', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'Deployment', 'Service', 'PodDisruptionBudget']) {
      assert.ok(kinds.has(k), k);
    }
    // Every CRD the schema source generates, and nothing else.
    assert.deepEqual(objects.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => o.metadata?.name).sort(), allCrds().map(({ crd }) => (crd as { metadata: { name: string } }).metadata.name).sort());
    const ns = objects.find((o) => o.kind === 'Namespace');
    assert.equal(ns?.metadata?.labels?.['pod-security.kubernetes.io/enforce'], 'restricted');
  });

  it('is installable: labels, probes, resources, heap, security context, and all the Deployment needs', () => {
    checkInstallable(objects, { managedBy: 'kustomize' });
  });

  it('marks the CRDs Prune=false for Argo CD (pruning one deletes every object of its kind)', () => {
    for (const crd of objects.filter((o) => o.kind === 'CustomResourceDefinition')) {
      assert.equal(crd.metadata?.annotations?.['argocd.argoproj.io/sync-options'], 'Prune=false', crd.metadata?.name);
    }
  });

  it('the Argo CD examples point at kustomizations that render, with server-side apply', async () => {
    const dir = path.join(repoRoot, 'examples/argocd');
    const apps = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    assert.ok(apps.length >= 2);
    for (const f of apps) {
      const app = parse(readFileSync(path.join(dir, f), 'utf8'));
      assert.equal(app.kind, 'Application', f);
      assert.ok(app.spec.syncPolicy.syncOptions.includes('ServerSideApply=true'), f);
      assert.ok((await render(app.spec.source.path)).some((o) => o.kind === 'Deployment'), `${f}: ${app.spec.source.path} renders a Deployment`);
    }
  });

  it('aggregates into view, edit and admin as ESO does', () => {
    assert.deepEqual(aggregatedRoles(objects), { 'tessera-view': ['admin', 'edit', 'view'], 'tessera-edit': ['admin', 'edit'] });
  });

  it('the example overlay keeps the heap ratio, moves the image and adds the ServiceMonitor in the same namespace', async () => {
    const overlay = await render('deploy/overlays/example');
    checkInstallable(overlay, { managedBy: 'kustomize', unlabelledKinds: ['ServiceMonitor'] });
    const c = overlay.find((o) => o.kind === 'Deployment')!.spec.template.spec.containers[0];
    assert.equal(c.image, `registry.example.com/platform/tessera:${packageVersion}`);
    const sm = overlay.find((o) => o.kind === 'ServiceMonitor');
    assert.equal(sm?.metadata?.namespace, 'tessera-system');
    const service = overlay.find((o) => o.kind === 'Service')!;
    assert.ok(Object.entries(sm!.spec.selector.matchLabels).every(([k, v]) => service.metadata?.labels?.[k] === v), 'the ServiceMonitor selects the metrics Service');
  });
});

describe('deploy/default applied server-side to the peers', () => {
  it('is accepted; the controller\'s RBAC, Pod Security admission and the view/edit/admin aggregation hold', async () => {
    await peers();
    const admin = await adminClient('tessera-deploy-test');
    const ns = uniqueName('tdeploy');
    const objects = parseManifests(await kustomizeInto('deploy/default', { namespace: ns, namePrefix: `${ns}-` })) as Array<KubeObject & { spec?: any }>;
    checkInstallable(objects, { managedBy: 'kustomize' });
    // The namespace holds everything namespaced, and goes when the file ends (kube-controller-manager
    // removes its contents); the prefixed cluster-scoped objects are deleted by applyRendering.
    onCleanup(() => admin.request('DELETE', `/api/v1/namespaces/${ns}`).catch(() => undefined));
    await applyRendering(admin, objects, 'tessera-deploy-test');
    await checkOnPeers(admin, objects);
  });
});
