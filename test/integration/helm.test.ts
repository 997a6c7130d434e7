// The Helm chart (deploy/charts/tessera) with the real Helm, built from the Go module proxy: lint,
// template with the defaults and with a values file written for ESO's chart, and install into the
// peers (a release namespace of its own, labelled for the restricted Pod Security level as
// docs/install.md advises), then uninstall.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ApiError } from '../../src/kube/client.ts';
import { parseManifests } from '../../src/kube/manifests.ts';
import type { KubeObject } from '../../src/kube/types.ts';
import { parseFlags } from '../../src/cli/flags.ts';
import { runFlags } from '../../src/cli/run.ts';
import { esoCompatibilityFlags, esoFlagWarnings } from '../../src/cli/eso-flags.ts';
import { repoRoot } from '../peers/index.ts';
import { runTool } from '../peers/tools.ts';
import { adminClient, onCleanup, peers, uniqueName, waitFor } from './helpers.ts';
import { aggregatedRoles, applyRendering, can, checkInstallable, checkOnPeers, packageVersion, serviceAccountUser } from './deploy-install.ts';

type Obj = KubeObject & { spec?: any; rules?: any[] };
const chart = 'deploy/charts/tessera';
const esoValues = path.join(repoRoot, 'test/fixtures/helm/eso-values.yaml');
const template = async (...args: string[]) => parseManifests(await runTool('helm', ['template', 'tessera', chart, '--namespace', 'tessera-system', ...args])) as Obj[];
const deploymentOf = (objects: Obj[]) => objects.find((o) => o.kind === 'Deployment')!;
const argsOf = (objects: Obj[]) => deploymentOf(objects).spec.template.spec.containers[0].args as string[];

describe('Helm chart', () => {
  it('passes helm lint (strict), with the defaults and with the ESO values file', async () => {
    const out = await runTool('helm', ['lint', '--strict', chart]);
    assert.match(out, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    await runTool('helm', ['lint', '--strict', chart, '--values', esoValues]);
  });

  it('versions follow package.json', () => {
    const meta = parse(readFileSync(path.join(repoRoot, chart, 'Chart.yaml'), 'utf8')) as { version: string; appVersion: string };
    assert.deepEqual([meta.version, meta.appVersion], [packageVersion, packageVersion]);
  });

  describe('helm template with the defaults', () => {
    let objects: Obj[];
    before(async () => {
      objects = await template();
    });

    it('is installable: labels, probes, resources, heap, security context, and all the Deployment needs', () => {
      checkInstallable(objects, { managedBy: 'Helm' });
    });

    it('holds the CRDs of deploy/crds, kept on uninstall', () => {
      const crds = objects.filter((o) => o.kind === 'CustomResourceDefinition');
      const kustomizeCrds = readFileSync(path.join(repoRoot, 'deploy/crds/kustomization.yaml'), 'utf8').match(/external-secrets\.io_\w+\.yaml/g)!;
      assert.equal(crds.length, kustomizeCrds.length);
      for (const crd of crds) {
        assert.equal(crd.metadata?.annotations?.['helm.sh/resource-policy'], 'keep');
        // deploy/crds names each file <group>_<plural>.yaml, as the CRD's name is <plural>.<group>.
        const [plural, ...group] = crd.metadata!.name!.split('.');
        const source = parse(readFileSync(path.join(repoRoot, 'deploy/crds', `${group.join('.')}_${plural}.yaml`), 'utf8'));
        assert.deepEqual(crd.spec, source.spec, `${crd.metadata?.name}: spec as deploy/crds has it`);
      }
    });

    it("gives the controller deploy/rbac's ClusterRole rules, and aggregates into view, edit and admin", () => {
      const shipped = parse(readFileSync(path.join(repoRoot, 'deploy/rbac/clusterrole.yaml'), 'utf8'));
      const role = objects.find((o) => o.kind === 'ClusterRole' && o.metadata?.name === 'tessera-controller');
      assert.deepEqual(role?.rules, shipped.rules);
      assert.deepEqual(aggregatedRoles(objects), { 'tessera-view': ['admin', 'edit', 'view'], 'tessera-edit': ['admin', 'edit'] });
    });

    it('leaves out what is off by default: PodDisruptionBudget, ServiceMonitor; installCRDs=false drops the CRDs', async () => {
      assert.ok(!objects.some((o) => o.kind === 'PodDisruptionBudget' || o.kind === 'ServiceMonitor'));
      const without = await template('--set', 'installCRDs=false');
      assert.ok(!without.some((o) => o.kind === 'CustomResourceDefinition'));
    });

    it('leaves the heap to tessera by default; heap.percentOfMemoryLimit sizes it from the limit, refusing a limit it cannot read', async () => {
      const env = (o: Obj[]) => deploymentOf(o).spec.template.spec.containers[0].env;
      assert.equal(env(objects), undefined, 'no NODE_OPTIONS: tessera run sizes its heap from the memory limit');
      assert.deepEqual(env(await template('--set', 'resources.limits.memory=2Gi', '--set', 'heap.percentOfMemoryLimit=60')), [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=1228' }]);
      assert.equal(env(await template('--set', 'resources.limits=null', '--set', 'heap.percentOfMemoryLimit=60')), undefined, 'no limit, no heap flag');
      await assert.rejects(template('--set', 'resources.limits.memory=1.5Gi', '--set', 'heap.percentOfMemoryLimit=50'), /resources\.limits\.memory "1\.5Gi"/);
    });

    it('values.schema.json refuses a wrong type, naming the value', async () => {
      await assert.rejects(template('--set', 'replicaCount=two'), /replicaCount/);
      await assert.rejects(template('--set', 'serviceMonitor.renderMode=sometimes'), /renderMode/);
      // tessera run refuses more than 256 shards; the chart refuses them before an install.
      await assert.rejects(template('--set', 'sharding.shards=300'), /sharding\/shards/);
      await assert.rejects(template('--set', 'sharding.shards=-1'), /sharding\/shards/);
    });

    it("sharding.shards: off by default; N passes --shards=N with --leader-elect and adds deploy/rbac/sharding.yaml's Lease Role in the release namespace", async () => {
      const shardingRole = (o: Obj[]) => o.find((x) => x.kind === 'Role' && x.metadata?.name === 'tessera-sharding');
      const flags = (o: Obj[]) => parseFlags([...runFlags, ...esoCompatibilityFlags], argsOf(o).slice(1)).values;
      assert.equal(flags(objects).shards, 0, 'no --shards by default');
      assert.ok(!argsOf(objects).some((a) => a.startsWith('--shards')));
      assert.equal(shardingRole(objects), undefined);
      assert.ok(!objects.some((o) => o.kind === 'RoleBinding' && o.metadata?.name === 'tessera-sharding'));

      // leaderElect=false too: --shards implies it, and the arguments say so.
      const sharded = await template('--set', 'sharding.shards=8', '--set', 'replicaCount=3', '--set', 'leaderElect=false');
      checkInstallable(sharded, { managedBy: 'Helm' });
      assert.equal(flags(sharded).shards, 8);
      assert.equal(flags(sharded)['leader-elect'], true);
      const shipped = parseManifests(readFileSync(path.join(repoRoot, 'deploy/rbac/sharding.yaml'), 'utf8')).find((o) => o.kind === 'Role') as Obj;
      const role = shardingRole(sharded);
      assert.equal(role?.metadata?.namespace, 'tessera-system');
      assert.deepEqual(role?.rules, shipped.rules);
      const binding = sharded.find((o) => o.kind === 'RoleBinding' && o.metadata?.name === 'tessera-sharding') as Obj & { roleRef: { name: string }; subjects: unknown[] };
      assert.equal(binding?.metadata?.namespace, 'tessera-system');
      assert.equal(binding.roleRef.name, 'tessera-sharding');
      assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'tessera', namespace: 'tessera-system' }]);
      // rbac.create=false leaves all RBAC to the user, this Role too.
      assert.equal(shardingRole(await template('--set', 'sharding.shards=8', '--set', 'rbac.create=false')), undefined);
    });
  });

  describe('helm template with a values file written for ESO', () => {
    let objects: Obj[];
    before(async () => {
      objects = await template('--values', esoValues);
    });

    it('is installable, with the shared values carried over', () => {
      checkInstallable(objects, { managedBy: 'Helm', unlabelledKinds: [] });
      const d = deploymentOf(objects);
      const pod = d.spec.template.spec;
      assert.equal(d.spec.replicas, 2);
      assert.equal(pod.containers[0].image, `registry.example.com/mirror/tessera:${packageVersion}`);
      assert.equal(pod.containers[0].imagePullPolicy, 'Always');
      assert.deepEqual(pod.imagePullSecrets, [{ name: 'registry-credentials' }]);
      assert.equal(pod.serviceAccountName, 'external-secrets');
      const sa = objects.find((o) => o.kind === 'ServiceAccount');
      assert.equal(sa?.metadata?.annotations?.['eks.amazonaws.com/role-arn'], 'arn:aws:iam::123456789012:role/external-secrets');
      assert.deepEqual(pod.securityContext, { fsGroup: 2000, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } }, "ESO's `enabled` switch is not a field");
      assert.equal(pod.containers[0].securityContext.runAsUser, 1000);
      assert.deepEqual(pod.nodeSelector, { 'node-role.kubernetes.io/infra': '' });
      assert.equal(pod.tolerations[0].key, 'node-role.kubernetes.io/infra');
      assert.ok(pod.affinity.podAntiAffinity);
      assert.equal(pod.topologySpreadConstraints[0].topologyKey, 'topology.kubernetes.io/zone');
      assert.equal(pod.priorityClassName, 'system-cluster-critical');
      assert.deepEqual(pod.containers[0].env.map((e: { name: string }) => e.name), ['HTTPS_PROXY', 'NO_PROXY']);
      assert.equal(objects.find((o) => o.kind === 'PodDisruptionBudget')?.spec.minAvailable, 1);
      const sm = objects.find((o) => o.kind === 'ServiceMonitor');
      assert.equal(sm?.metadata?.labels?.release, 'prometheus');
      assert.equal(sm?.spec.endpoints[0].interval, '15s');
      assert.deepEqual(aggregatedRoles(objects), { 'tessera-view': ['edit', 'view'], 'tessera-edit': ['edit'] });
    });

    it('passes arguments tessera run accepts: the leader election values, concurrent, and ESO extraArgs with a warning', () => {
      const args = argsOf(objects);
      assert.equal(args[0], 'run');
      const { values } = parseFlags([...runFlags, ...esoCompatibilityFlags], args.slice(1));
      assert.equal(values['leader-elect'], true);
      assert.equal(values['leader-election-id'], 'platform-secrets');
      assert.equal(values['lease-duration'], '30s');
      assert.equal(values.concurrent, 4);
      assert.equal(values['log-level'], 'debug');
      assert.equal(values['store-requeue-interval'], '10m');
      assert.deepEqual(esoFlagWarnings(values).map((w) => w.flag).sort(), ['enable-flood-gate', 'zap-time-encoding']);
    });
  });

  describe('helm install into the peers', () => {
    it('installs, the objects are what an install needs, and uninstall removes them', async () => {
      const env = await peers();
      const admin = await adminClient('tessera-helm-test');
      const ns = uniqueName('thelm');
      const release = ns;
      const kube = ['--kubeconfig', env.KUBECONFIG, '--namespace', ns];
      // The namespace the way docs/install.md creates it: restricted Pod Security.
      await admin.request('POST', '/api/v1/namespaces', {
        body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } },
      });
      onCleanup(() => admin.request('DELETE', `/api/v1/namespaces/${ns}`).catch(() => undefined));
      // The CRDs are shared by every test on the peers: Helm must not take them over. Their
      // rendering is applied with dryRun=All instead, which validates them all the same.
      const crds = (await template('--show-only', 'templates/crds.yaml')).filter((o) => o.kind === 'CustomResourceDefinition');
      assert.ok(crds.length >= 3);
      await applyRendering(admin, crds, 'tessera-helm-test');

      // With sharding on, so its Role is checked against the real authorizer too.
      await runTool('helm', ['install', release, chart, ...kube, '--set', 'installCRDs=false', '--set', 'podDisruptionBudget.enabled=true', '--set', 'sharding.shards=4', '--set', 'replicaCount=2']);
      let installed = true;
      onCleanup(() => (installed ? runTool('helm', ['uninstall', release, ...kube]).catch(() => undefined) : undefined));
      const manifest = parseManifests(await runTool('helm', ['get', 'manifest', release, ...kube])) as Obj[];
      const objects = manifest.map((o) => (o.metadata?.namespace || isClusterScoped(o) ? o : { ...o, metadata: { ...o.metadata, namespace: ns } }));
      const deployment = deploymentOf(objects);
      const deploymentPath = `/apis/apps/v1/namespaces/${ns}/deployments/${deployment.metadata!.name}`;
      await admin.request('GET', deploymentPath);
      checkInstallable(objects, { managedBy: 'Helm' });
      await checkOnPeers(admin, objects);
      const [saUser, saGroups] = serviceAccountUser(ns, deployment.spec.template.spec.serviceAccountName);
      const leases = { group: 'coordination.k8s.io', resource: 'leases' };
      for (const verb of ['list', 'delete']) {
        assert.ok(await can(admin, saUser, saGroups, { ...leases, verb, namespace: ns }), `sharding: ${verb} Leases in ${ns}`);
        assert.equal(await can(admin, saUser, saGroups, { ...leases, verb, namespace: 'kube-system' }), false, `sharding: no ${verb} of Leases elsewhere`);
      }
      const status = await runTool('helm', ['status', release, ...kube, '--output', 'json']);
      assert.equal((JSON.parse(status) as { info: { status: string } }).info.status, 'deployed');

      await runTool('helm', ['uninstall', release, ...kube]);
      installed = false;
      const gone = (p: string) => admin.request('GET', p).then(() => false, (e: unknown) => e instanceof ApiError && e.code === 404);
      await waitFor('the Deployment to be gone', () => gone(deploymentPath));
      for (const r of objects.filter((o) => o.kind === 'ClusterRole')) assert.ok(await gone(`/apis/rbac.authorization.k8s.io/v1/clusterroles/${r.metadata!.name}`), `${r.metadata!.name} removed`);
    });
  });
});

function isClusterScoped(o: KubeObject): boolean {
  return ['ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'Namespace'].includes(o.kind!);
}
