// The container image as a cluster runs it: podman starts localhost/tessera (built by
// scripts/image.ts when missing or stale) with what a pod gets, and nothing else: a projected
// ServiceAccount token, the cluster CA and the pod's namespace under
// /var/run/secrets/kubernetes.io/serviceaccount, KUBERNETES_SERVICE_HOST/PORT, a read-only root
// filesystem and an arbitrary UID in group 0 (OpenShift's restricted-v2). It must sync the platform
// team's example against the AWS emulator, answer its probes and stop at once on SIGTERM.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { before, describe, it } from 'node:test';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { KubeClient } from '../../src/kube/client.ts';
import { applyManifests, parseManifests } from '../../src/kube/manifests.ts';
import { core, type KubeObject, type Secret } from '../../src/kube/types.ts';
import { containerEnv, ensureImage, NONROOT_UID, type BuiltImage } from '../../scripts/image.ts';
import { ports, repoRoot, stateDir, type PeersEnv } from '../peers/index.ts';
import { installTessera } from '../peers/operator.ts';
import { adminClient, decodeSecret, freshNamespace, onCleanup, peers, waitFor, waitReady } from './helpers.ts';

const execFileP = promisify(execFile);
const podman = async (...args: string[]) => (await execFileP('podman', args, { env: containerEnv, maxBuffer: 16 << 20 })).stdout.trim();

/** OpenShift assigns a UID from the namespace's range, with group 0: one such. */
const ARBITRARY_USER = '1000720000:0';
const CONTROLLER_CLASS = 'tessera-image-test';
const SA_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

let env: PeersEnv;
let admin: KubeClient;
let image: BuiltImage;

/** A port free on 127.0.0.1 now (the container shares the host network). */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

/** The files the kubelet projects into a pod for its ServiceAccount, in a directory to mount. */
async function projectedServiceAccount(namespace: string, name: string): Promise<string> {
  const res = await admin.request<{ status: { token: string } }>('POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, {
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'tessera-sa-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'token'), res.status.token);
  writeFileSync(path.join(dir, 'ca.crt'), readFileSync(path.join(stateDir, 'pki', 'ca.crt')));
  writeFileSync(path.join(dir, 'namespace'), namespace);
  // The kubelet's default mode (0644): readable by whatever UID the container runs as.
  chmodSync(dir, 0o755);
  for (const f of readdirSync(dir)) chmodSync(path.join(dir, f), 0o644);
  return dir;
}

/** examples/aws/registry-db.yaml with its names moved into this test's namespace and class. */
function platformExample(ns: string, awsKey: string): KubeObject[] {
  const docs = parseManifests(readFileSync(path.join(repoRoot, 'examples/aws/registry-db.yaml'), 'utf8')) as Array<KubeObject & { spec: Record<string, unknown> }>;
  const store = docs.find((d) => d.kind === 'ClusterSecretStore');
  const es = docs.find((d) => d.kind === 'ExternalSecret');
  assert.ok(store && es, 'the example has a ClusterSecretStore and an ExternalSecret');
  store.metadata!.name = `${ns}-store`;
  store.spec.controller = CONTROLLER_CLASS;
  store.spec.conditions = [{ namespaces: [ns] }];
  es.metadata!.namespace = ns;
  const spec = es.spec as { secretStoreRef: { name: string }; data: Array<{ remoteRef: { key: string } }> };
  spec.secretStoreRef.name = `${ns}-store`;
  for (const d of spec.data) d.remoteRef.key = awsKey;
  onCleanup(() => admin.delete({ group: 'external-secrets.io', version: 'v1', plural: 'clustersecretstores', kind: 'ClusterSecretStore', namespaced: false }, undefined, `${ns}-store`).catch(() => undefined));
  return docs;
}

before(async () => {
  env = await peers(['etcd', 'kube-apiserver', 'kube-controller-manager', 'moto']);
  admin = await adminClient();
  await installTessera(admin);
  // podman, buildah and runc are Debian packages the project's script installs (as root, only what
  // is missing), so `npm ci && npm test` needs nothing installed by hand; without root and without
  // the tools it fails here, naming the command.
  execFileSync('bash', [path.join(repoRoot, 'test/peers/build.sh'), 'container-tools'], { stdio: 'inherit' });
  const t0 = Date.now();
  image = ensureImage();
  process.stderr.write(`[image] ${image.name}: ${(image.sizeBytes / 1e6).toFixed(1)} MB, ${image.rebuilt ? `built in ${((Date.now() - t0) / 1000).toFixed(1)} s` : 'current (inputs unchanged)'}\n`);
});

describe('the image', () => {
  it('has no shell or package manager, runs as the numeric nonroot user, and only root may write its files', async () => {
    const config = JSON.parse(await podman('image', 'inspect', '--format', '{{json .Config}}', image.name)) as { User: string; Entrypoint: string[] };
    assert.equal(config.User, `${NONROOT_UID}:${NONROOT_UID}`);
    assert.deepEqual(config.Entrypoint, ['/nodejs/bin/node', '/app/bin/tessera.js']);
    const root = await podman('image', 'mount', image.name);
    onCleanup(() => podman('image', 'unmount', image.name).catch(() => undefined));
    for (const tool of ['bin/sh', 'bin/bash', 'usr/bin/sh', 'usr/bin/apt-get', 'usr/bin/dpkg', 'usr/bin/npm', 'nodejs/bin/npm']) {
      assert.throws(() => lstatSync(path.join(root, tool)), `/${tool} is in the image`);
    }
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        const st = lstatSync(p);
        if (st.isSymbolicLink()) continue;
        const rel = path.relative(root, p);
        const expectedOwner = rel === 'home/nonroot' ? NONROOT_UID : 0;
        // /tmp is the one shared writable place (sticky), as in every distroless image.
        if (st.uid !== expectedOwner || (st.mode & 0o022 && rel !== 'tmp') || st.mode & 0o6000) offenders.push(`${rel} ${st.uid} ${(st.mode & 0o7777).toString(8)}`);
        if (e.isDirectory()) walk(p);
      }
    };
    walk(root);
    assert.deepEqual(offenders.slice(0, 20), [], 'files not owned by root or writable by group/others');
  });

  it('syncs the platform example from inside the container as an arbitrary UID on a read-only root, answers its probes, and stops on SIGTERM', async () => {
    const ns = await freshNamespace(admin, 'img');
    const awsKey = `${ns}-db-credentials`;
    const password = `pw-${ns}`;
    const sm = new SecretsManagerClient({ region: env.AWS_REGION, endpoint: env.AWS_ENDPOINT_URL, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY } });
    onCleanup(() => sm.destroy());
    await sm.send(new CreateSecretCommand({ Name: awsKey, SecretString: JSON.stringify({ 'database-password': password, 'database-user': 'registry' }) }));

    const saDir = await projectedServiceAccount('tessera-system', 'tessera');
    const [healthPort, metricsPort] = [await freePort(), await freePort()];
    const name = `tessera-${ns}`;
    onCleanup(() => podman('rm', '--force', '--time', '0', name).catch(() => undefined));
    await podman(
      'run', '--detach', '--name', name,
      '--network', 'host', '--read-only', '--user', ARBITRARY_USER, '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges',
      '--volume', `${saDir}:${SA_MOUNT}:ro`,
      '--env', 'KUBERNETES_SERVICE_HOST=127.0.0.1', '--env', `KUBERNETES_SERVICE_PORT=${ports.apiserver}`,
      // The AWS emulator as the default credential chain, as IRSA would be in a cluster.
      '--env', `AWS_ENDPOINT_URL=${env.AWS_ENDPOINT_URL}`, '--env', `AWS_ACCESS_KEY_ID=${env.AWS_ACCESS_KEY_ID}`,
      '--env', `AWS_SECRET_ACCESS_KEY=${env.AWS_SECRET_ACCESS_KEY}`, '--env', `AWS_REGION=${env.AWS_REGION}`,
      image.name, 'run',
      `--controller-class=${CONTROLLER_CLASS}`, `--health-addr=127.0.0.1:${healthPort}`, `--metrics-addr=127.0.0.1:${metricsPort}`,
      // The Lease goes to the namespace read from the projected files: the in-cluster path.
      '--leader-elect', `--leader-election-id=${name}`, '--log-level=debug',
    );
    const logs = () => podman('logs', name).catch((e: Error) => e.message);
    const probe = async (p: string) => (await fetch(`http://127.0.0.1:${healthPort}${p}`)).status;
    try {
      await waitFor('/readyz to answer 200', async () => (await probe('/readyz').catch(() => 0)) === 200, 60_000);
    } catch (e) {
      throw new Error(`${(e as Error).message}\ncontainer logs:\n${(await logs()).split('\n').slice(-20).join('\n')}`);
    }
    assert.equal(await probe('/healthz'), 200);
    const lease = await waitFor('the Lease in the pod namespace', () => admin.tryGet<KubeObject & { spec?: { holderIdentity?: string } }>({ group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true }, 'tessera-system', name));
    onCleanup(() => admin.delete({ group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true }, 'tessera-system', name).catch(() => undefined));
    assert.ok(lease.spec?.holderIdentity, 'the container holds its Lease');

    await applyManifests(admin, platformExample(ns, awsKey));
    const ready = await waitReady(admin, ns, 'registry-db-secrets', 'True', /./, 60_000);
    assert.equal(ready.reason, 'SecretSynced');
    const secret = await admin.get<Secret>(core.secrets, ns, 'registry-db-secrets');
    assert.deepEqual(decodeSecret(secret), { MYSQL_ROOT_PASSWORD: password, MYSQL_USER_NAME: 'registry' });
    assert.match(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text(), /^externalsecret_sync_calls_total\{/m);

    // The controller's resident memory once idle, as README reports it (the process is the
    // container's only one; /proc on the host sees it).
    await new Promise((r) => setTimeout(r, 5000));
    const pid = await podman('inspect', '--format', '{{.State.Pid}}', name);
    const rssKb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    process.stderr.write(`[image] idle RSS of the controller in the container: ${(rssKb / 1024).toFixed(1)} MiB\n`);
    assert.ok(rssKb > 0 && rssKb < 512 * 1024, `idle RSS ${rssKb} kB`);

    const t0 = Date.now();
    await podman('stop', '--time', '20', name); // SIGTERM; SIGKILL only after 20 s
    const stoppedMs = Date.now() - t0;
    process.stderr.write(`[image] stopped by SIGTERM in ${stoppedMs} ms\n`);
    const state = JSON.parse(await podman('inspect', '--format', '{{json .State}}', name)) as { ExitCode: number };
    const text = await logs();
    assert.equal(state.ExitCode, 0, `exit code ${state.ExitCode}; last logs:\n${text.split('\n').slice(-10).join('\n')}`);
    assert.ok(stoppedMs < 10_000, `SIGTERM took ${stoppedMs} ms to stop the container`);
    assert.ok(!text.includes(password), 'a secret value appears in the container logs');
  });
});
