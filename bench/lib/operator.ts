// Starts the controller for a benchmark as users run it: CRDs and the RBAC we ship installed, a
// separate `tessera run` process under its own ServiceAccount (tessera-system/tessera). Mirrors
// test/integration/operator.ts without depending on node:test.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { KubeClient } from '../../src/kube/client.ts';
import { applyManifests, parseManifests, resetDiscovery } from '../../src/kube/manifests.ts';
import type { KubeObject } from '../../src/kube/types.ts';
import { repoRoot, stateDir, type PeersEnv } from '../../test/peers/index.ts';

export async function poll<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function manifestsIn(dir: string): KubeObject[] {
  const abs = path.join(repoRoot, dir);
  return readdirSync(abs)
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .sort()
    .flatMap((f) => parseManifests(readFileSync(path.join(abs, f), 'utf8')));
}

export async function installTessera(admin: KubeClient): Promise<void> {
  await applyManifests(admin, manifestsIn('deploy/crds'));
  await poll('external-secrets.io CRDs to be served', async () => {
    const r = await admin.request<{ resources: Array<{ name: string }> }>('GET', '/apis/external-secrets.io/v1').catch(() => undefined);
    return r && ['externalsecrets', 'secretstores', 'clustersecretstores'].every((n) => r.resources.some((x) => x.name === n));
  }, 60_000);
  resetDiscovery(admin);
  const rbac = manifestsIn('deploy/rbac');
  await applyManifests(admin, rbac.filter((o) => o.kind === 'Namespace'));
  await applyManifests(admin, rbac.filter((o) => o.kind !== 'Namespace'));
}

async function operatorKubeconfig(admin: KubeClient, env: PeersEnv): Promise<string> {
  const res = await admin.request<{ status: { token: string } }>('POST', '/api/v1/namespaces/tessera-system/serviceaccounts/tessera/token', {
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 7200 } },
  });
  const ca = readFileSync(path.join(stateDir, 'pki', 'ca.crt')).toString('base64');
  const file = path.join(stateDir, `tessera-bench-${process.pid}.kubeconfig`);
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: { server: ${JSON.stringify(env.KUBE_APISERVER_URL)}, certificate-authority-data: ${ca} }
users:
- name: tessera
  user: { token: ${JSON.stringify(res.status.token)} }
contexts:
- name: tessera
  context: { cluster: local, user: tessera }
current-context: tessera
`,
    { mode: 0o600 },
  );
  return file;
}

export interface Controller {
  child: ChildProcess;
  pid: number;
  logFile: string;
  metricsUrl: string;
  healthUrl: string;
  /** Milliseconds (Date.now()) when the process was spawned. */
  spawnedAt: number;
  metrics(names?: string[]): Promise<string>;
  stop(): Promise<number | null>;
}

/** Spawns `tessera run` (info-level logs to a file) and waits for its "started" line. */
export async function startController(admin: KubeClient, env: PeersEnv, args: string[], nodeOptions = ''): Promise<Controller> {
  const kubeconfig = await operatorKubeconfig(admin, env);
  mkdirSync(path.join(stateDir, 'logs'), { recursive: true });
  const logFile = path.join(stateDir, 'logs', `tessera-bench-${process.pid}-${Date.now()}.log`);
  const out = createWriteStream(logFile);
  const spawnedAt = Date.now();
  const child = spawn(
    process.execPath,
    [path.join(repoRoot, 'bin/tessera.js'), 'run', `--kubeconfig=${kubeconfig}`, '--metrics-addr=127.0.0.1:0', '--health-addr=127.0.0.1:0', '--log-level=info', ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        AWS_ENDPOINT_URL: env.AWS_ENDPOINT_URL,
        AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY,
        AWS_REGION: env.AWS_REGION,
        // As a container memory limit would (Node sizes its heap to the cgroup limit).
        ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
      },
    },
  );
  let started: { metrics?: string; health?: string } | undefined;
  let tail: string[] = [];
  let partial = '';
  const collect = (d: string) => {
    out.write(d);
    if (started) return;
    const lines = (partial + d).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) {
      tail = [...tail.slice(-20), l];
      try {
        const j = JSON.parse(l) as { msg?: string; health?: string; metrics?: string };
        if (j.msg === 'started') started = j;
      } catch {
        /* not JSON */
      }
    }
  };
  child.stdout!.setEncoding('utf8').on('data', collect);
  child.stderr!.setEncoding('utf8').on('data', collect);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const s = await poll('tessera run to start', () => {
    if (child.exitCode !== null) throw new Error(`tessera exited with ${child.exitCode}:\n${tail.join('\n')}`);
    return started;
  }, 60_000, 50);
  return {
    child,
    pid: child.pid!,
    logFile,
    spawnedAt,
    metricsUrl: `http://${s.metrics}/metrics`,
    healthUrl: `http://${s.health}`,
    metrics: async (names = []) => {
      const q = names.map((n) => `name=${encodeURIComponent(n)}`).join('&');
      return (await fetch(`http://${s.metrics}/metrics${q ? '?' + q : ''}`)).text();
    },
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      const code = await exited;
      out.end();
      return code;
    },
  };
}
