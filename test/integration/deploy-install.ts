// What every way of installing Tessera (deploy/default with kustomize, the Helm chart, the OLM
// bundle) must get right, checked on the rendered objects, and the steps that put a rendering on
// the shared peers without disturbing other tests: cluster-scoped objects that other tests share
// (the CRDs) are applied with dryRun=All, everything else under names and a namespace of the test's
// own, removed when the file ends.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KubeClient } from '../../src/kube/client.ts';
import { resourceFor, resetDiscovery } from '../../src/kube/manifests.ts';
import type { KubeObject } from '../../src/kube/types.ts';
import { parseFlags } from '../../src/cli/flags.ts';
import { runFlags } from '../../src/cli/run.ts';
import { esoCompatibilityFlags } from '../../src/cli/eso-flags.ts';
import { defaultOldSpaceMb } from '../../src/cli/heap.ts';
import { parseMemoryLimitMb } from '../../src/compute/index.ts';
import { repoRoot } from '../peers/index.ts';
import { runTool } from '../peers/tools.ts';
import { onCleanup } from './helpers.ts';

export const packageVersion: string = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

type Obj = KubeObject & { spec?: any; rules?: any[]; subjects?: any[]; roleRef?: any };

/** `kustomize build` of `dir` (relative to the repository) under an overlay that moves it into the test's namespace and names. */
export async function kustomizeInto(dir: string, opts: { namespace: string; namePrefix: string }): Promise<string> {
  const overlay = mkdtempSync(path.join(os.tmpdir(), 'tessera-kustomize-'));
  try {
    // kustomize takes a base only by a relative path.
    const base = path.relative(overlay, path.join(repoRoot, dir));
    writeFileSync(path.join(overlay, 'kustomization.yaml'), `namespace: ${opts.namespace}\nnamePrefix: ${opts.namePrefix}\nresources:\n  - ${base}\n`);
    return await runTool('kustomize', ['build', overlay]);
  } finally {
    rmSync(overlay, { recursive: true, force: true });
  }
}

const byKind = (objects: Obj[], kind: string) => objects.filter((o) => o.kind === kind);
const one = (objects: Obj[], kind: string): Obj => {
  const found = byKind(objects, kind);
  assert.equal(found.length, 1, `exactly one ${kind}`);
  return found[0]!;
};

function matches(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** MiB of a `--max-old-space-size=N` in NODE_OPTIONS. */
function heapMiB(container: any): number | undefined {
  const value: string | undefined = container.env?.find((e: any) => e.name === 'NODE_OPTIONS')?.value;
  const m = /--max-old-space-size=(\d+)/.exec(value ?? '');
  return m ? Number(m[1]) : undefined;
}

export interface InstallExpectations {
  /** The tool that renders it, in app.kubernetes.io/managed-by. */
  managedBy: string;
  /** Objects that may lack the recommended labels (e.g. CRDs the tool copies verbatim). */
  unlabelledKinds?: string[];
}

/**
 * The invariants of an installable rendering: recommended labels everywhere; a Deployment with
 * probes on the health port it serves, resources, a heap tied to the memory limit, the restricted
 * security context and arguments `tessera run` accepts; and everything it needs (ServiceAccount,
 * RBAC bound to that ServiceAccount, the Lease Role in its namespace, a Service and a
 * PodDisruptionBudget that select its pods) in the same rendering.
 */
export function checkInstallable(objects: Obj[], expect: InstallExpectations): void {
  for (const o of objects) {
    if (expect.unlabelledKinds?.includes(o.kind!)) continue;
    const labels = o.metadata?.labels ?? {};
    for (const key of ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/version', 'app.kubernetes.io/managed-by', 'app.kubernetes.io/part-of']) {
      assert.ok(labels[key], `${o.kind}/${o.metadata?.name} has label ${key}`);
    }
    assert.equal(labels['app.kubernetes.io/version'], packageVersion, `${o.kind}/${o.metadata?.name} version label`);
    assert.equal(labels['app.kubernetes.io/managed-by'], expect.managedBy);
  }

  const deployment = one(objects, 'Deployment');
  const ns = deployment.metadata!.namespace!;
  const pod = deployment.spec.template;
  assert.ok(matches(deployment.spec.selector.matchLabels, pod.metadata.labels), 'the Deployment selects its own pods');
  assert.equal(pod.metadata.labels['app.kubernetes.io/version'], packageVersion);
  const podSecurity = pod.spec.securityContext;
  assert.equal(podSecurity.runAsNonRoot, true);
  assert.equal(podSecurity.seccompProfile?.type, 'RuntimeDefault');
  assert.equal(pod.spec.containers.length, 1);
  const c = pod.spec.containers[0];
  assert.match(c.image, new RegExp(`:${packageVersion.replace(/\./g, '\\.')}$`), 'the image tag is the package version');
  assert.deepEqual(
    { ape: c.securityContext.allowPrivilegeEscalation, ro: c.securityContext.readOnlyRootFilesystem, drop: c.securityContext.capabilities.drop },
    { ape: false, ro: true, drop: ['ALL'] },
  );

  // The arguments are `run` plus flags tessera run accepts; probes and ports follow them.
  assert.equal(c.args[0], 'run');
  const { values } = parseFlags([...runFlags, ...esoCompatibilityFlags], c.args.slice(1));
  const portOf = (addr: unknown) => Number(String(addr).split(':').pop());
  const containerPort = (name: string) => c.ports.find((p: any) => p.name === name)?.containerPort;
  assert.equal(containerPort('health'), portOf(values['health-addr']), 'health port = --health-addr');
  assert.equal(containerPort('metrics'), portOf(values['metrics-addr']), 'metrics port = --metrics-addr');
  assert.equal(values['leader-elect'], true, 'replicas elect a leader');
  assert.deepEqual([c.livenessProbe.httpGet.path, c.livenessProbe.httpGet.port], ['/healthz', 'health']);
  assert.deepEqual([c.readinessProbe.httpGet.path, c.readinessProbe.httpGet.port], ['/readyz', 'health']);

  // Heap: at most half the memory limit, and with the template workers' heaps still below it;
  // NODE_OPTIONS's --max-old-space-size, else what `tessera run` chooses from the limit.
  const limit = parseMemoryLimitMb(c.resources.limits.memory);
  assert.ok(c.resources.requests.cpu && c.resources.requests.memory, 'resource requests');
  const heap = heapMiB(c) ?? defaultOldSpaceMb(limit);
  const workers = Number(values['template-workers']);
  const workerHeap = parseMemoryLimitMb(String(values['template-memory-limit']));
  assert.ok(heap <= limit / 2 && heap + workers * workerHeap <= limit * 0.75, `heap ${heap}Mi + ${workers}x${workerHeap}Mi within the ${limit}Mi limit`);

  // What the pod needs exists in the same rendering.
  const sa = objects.find((o) => o.kind === 'ServiceAccount' && o.metadata?.name === pod.spec.serviceAccountName && o.metadata?.namespace === ns);
  assert.ok(sa, `ServiceAccount ${pod.spec.serviceAccountName} in ${ns}`);
  const boundToSa = (b: Obj) => b.subjects?.some((s: any) => s.kind === 'ServiceAccount' && s.name === sa.metadata!.name && s.namespace === ns);
  const clusterBinding = byKind(objects, 'ClusterRoleBinding').find(boundToSa);
  assert.ok(clusterBinding, 'a ClusterRoleBinding for the ServiceAccount');
  const controllerRole = objects.find((o) => o.kind === 'ClusterRole' && o.metadata?.name === clusterBinding.roleRef.name);
  assert.ok(controllerRole, `ClusterRole ${clusterBinding.roleRef.name}`);
  assert.ok(controllerRole.rules!.some((r: any) => r.apiGroups.includes('external-secrets.io') && r.verbs.includes('watch')));
  const leaseBinding = byKind(objects, 'RoleBinding').find((b) => boundToSa(b) && b.metadata?.namespace === ns);
  assert.ok(leaseBinding, 'a RoleBinding in the controller namespace');
  const leaseRole = objects.find((o) => o.kind === 'Role' && o.metadata?.name === leaseBinding.roleRef.name && o.metadata?.namespace === ns);
  assert.ok(leaseRole?.rules!.some((r: any) => r.resources.includes('leases')), 'the Lease Role');

  const service = byKind(objects, 'Service').find((s) => s.metadata?.namespace === ns && matches(s.spec.selector, pod.metadata.labels));
  assert.ok(service, 'a Service selecting the pods');
  assert.ok(service.spec.ports.some((p: any) => p.name === 'metrics' && (p.targetPort === 'metrics' || p.targetPort === containerPort('metrics'))));
  const pdb = byKind(objects, 'PodDisruptionBudget').find((p) => p.metadata?.namespace === ns);
  if (pdb) assert.ok(matches(pdb.spec.selector.matchLabels, pod.metadata.labels), 'the PodDisruptionBudget selects the pods');
}

/** The aggregation labels each user-facing ClusterRole carries (view, edit, admin). */
export function aggregatedRoles(objects: Obj[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const role of byKind(objects, 'ClusterRole')) {
    const into = Object.entries(role.metadata?.labels ?? {})
      .filter(([k, v]) => k.startsWith('rbac.authorization.k8s.io/aggregate-to-') && v === 'true')
      .map(([k]) => k.slice('rbac.authorization.k8s.io/aggregate-to-'.length));
    if (into.length) out[role.metadata!.name!] = into.sort();
  }
  return out;
}

/** Kinds shared with every other test on the peers: validated by the server, never written. */
const sharedKinds = new Set(['CustomResourceDefinition']);

/**
 * Server-side applies a rendering: shared kinds with dryRun=All, the rest for real (namespaces
 * first), under a field manager of the caller's. Cluster-scoped objects applied for real are
 * deleted when the test file ends.
 */
export async function applyRendering(admin: KubeClient, objects: Obj[], fieldManager: string): Promise<void> {
  const ordered = [...objects.filter((o) => o.kind === 'Namespace'), ...objects.filter((o) => o.kind !== 'Namespace')];
  for (const o of ordered) {
    const rt = await resourceFor(admin, o.apiVersion!, o.kind!);
    const dryRun = sharedKinds.has(o.kind!);
    await admin.request('PATCH', KubeClient.path(rt, o.metadata?.namespace, o.metadata!.name!), {
      body: o,
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager, force: true, dryRun: dryRun ? 'All' : undefined },
    });
    if (!dryRun && !rt.namespaced) onCleanup(() => admin.delete(rt, undefined, o.metadata!.name!).catch(() => undefined));
  }
  resetDiscovery(admin);
}

interface AccessQuestion {
  verb: string;
  resource: string;
  group?: string;
  subresource?: string;
  namespace?: string;
}

/** Whether the API server authorizes `user` (with `groups`) for one request, by SubjectAccessReview. */
export async function can(admin: KubeClient, user: string, groups: string[], q: AccessQuestion): Promise<boolean> {
  const review = await admin.request<{ status?: { allowed?: boolean } }>('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
    body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user, groups, resourceAttributes: { group: q.group ?? '', ...q } } },
  });
  return review.status?.allowed === true;
}

export function serviceAccountUser(namespace: string, name: string): [string, string[]] {
  return [`system:serviceaccount:${namespace}:${name}`, ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated']];
}

/**
 * On the peers: the controller's ServiceAccount may do what the controller does (and not take
 * Leases elsewhere), the Deployment's pod passes the namespace's Pod Security admission, and the
 * built-in view, edit and admin roles aggregate the external-secrets.io rules.
 */
export async function checkOnPeers(admin: KubeClient, objects: Obj[]): Promise<void> {
  const deployment = one(objects, 'Deployment');
  const ns = deployment.metadata!.namespace!;
  const [saUser, saGroups] = serviceAccountUser(ns, deployment.spec.template.spec.serviceAccountName);
  const es = { group: 'external-secrets.io' };
  const allowed: AccessQuestion[] = [
    { ...es, verb: 'watch', resource: 'externalsecrets' },
    { ...es, verb: 'list', resource: 'clustersecretstores' },
    { ...es, verb: 'patch', resource: 'externalsecrets', subresource: 'status', namespace: 'any-tenant' },
    { verb: 'create', resource: 'secrets', namespace: 'any-tenant' },
    { verb: 'create', resource: 'events', namespace: 'any-tenant' },
    { group: 'coordination.k8s.io', verb: 'update', resource: 'leases', namespace: ns },
  ];
  for (const q of allowed) assert.ok(await can(admin, saUser, saGroups, q), `the controller may ${JSON.stringify(q)}`);
  assert.equal(await can(admin, saUser, saGroups, { group: 'coordination.k8s.io', verb: 'update', resource: 'leases', namespace: 'kube-system' }), false, 'no Leases outside its namespace');

  // The peers run no ReplicaSet controller: the pod the Deployment would get is created with
  // dryRun=All, which runs admission (Pod Security's restricted level on this namespace) all the same.
  await admin.request('POST', `/api/v1/namespaces/${ns}/pods`, {
    body: { apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'tessera-', labels: deployment.spec.template.metadata.labels }, spec: deployment.spec.template.spec },
    query: { dryRun: 'All' },
  });
  // …and that admission does refuse a pod that breaks it (so the acceptance above means something).
  const privileged = structuredClone(deployment.spec.template.spec);
  privileged.containers[0].securityContext.allowPrivilegeEscalation = true;
  await assert.rejects(
    admin.request('POST', `/api/v1/namespaces/${ns}/pods`, { body: { apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'tessera-' }, spec: privileged }, query: { dryRun: 'All' } }),
    /allowPrivilegeEscalation/,
  );

  // Nor the clusterrole-aggregation controller: check instead that the server's own view, edit and
  // admin roles select the rendered roles by their labels (the controller then copies the rules).
  const rendered = aggregatedRoles(objects);
  for (const builtin of ['view', 'edit', 'admin']) {
    const role = await admin.request<{ aggregationRule?: { clusterRoleSelectors?: Array<{ matchLabels?: Record<string, string> }> } }>('GET', `/apis/rbac.authorization.k8s.io/v1/clusterroles/${builtin}`);
    const selectors = role.aggregationRule?.clusterRoleSelectors ?? [];
    const selected = byKind(objects, 'ClusterRole').filter((r) => selectors.some((sel) => matches(sel.matchLabels ?? {}, r.metadata?.labels)));
    const expected = Object.entries(rendered).filter(([, into]) => into.includes(builtin)).map(([name]) => name);
    assert.deepEqual(selected.map((r) => r.metadata!.name).sort(), expected.sort(), `${builtin} aggregates ${expected.join(', ')}`);
    assert.ok(selected.length > 0, `${builtin} aggregates a Tessera role`);
    const grants = selected.flatMap((r) => r.rules ?? []).filter((r: any) => r.apiGroups.includes('external-secrets.io'));
    const verbs = new Set(grants.flatMap((r: any) => r.verbs));
    for (const v of builtin === 'view' ? ['get', 'list', 'watch'] : ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete']) assert.ok(verbs.has(v), `${builtin} gets ${v}`);
    if (builtin === 'view') assert.ok(!verbs.has('create') && !verbs.has('update'), 'view does not write');
  }
}
