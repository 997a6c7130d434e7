// Runs the operator as users run it: a separate `tessera run` process, under its own
// ServiceAccount with the RBAC we ship (deploy/rbac), after the CRDs (deploy/crds) are installed.
// Used by the integration tests, the demo and the benchmarks (so: no node:test imports here).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { KubeClient } from '../../src/kube/client.ts';
import { applyManifests, parseManifests, resetDiscovery } from '../../src/kube/manifests.ts';
import type { KubeObject } from '../../src/kube/types.ts';
import { repoRoot, stateDir, type PeersEnv } from './index.ts';

export function manifestsIn(dir: string): KubeObject[] {
  const abs = path.join(repoRoot, dir);
  return readdirSync(abs)
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .sort()
    .flatMap((f) => parseManifests(readFileSync(path.join(abs, f), 'utf8')));
}

/** Installs the CRDs and the controller's RBAC (idempotent) and waits for the API to serve them. */
export async function installTessera(admin: KubeClient): Promise<void> {
  await applyManifests(admin, manifestsIn('deploy/crds'));
  await waitFor('external-secrets.io CRDs to be served', async () => {
    const r = await admin.request<{ resources: Array<{ name: string }> }>('GET', '/apis/external-secrets.io/v1').catch(() => undefined);
    return r && ['externalsecrets', 'secretstores', 'clustersecretstores'].every((n) => r.resources.some((x) => x.name === n));
  });
  await waitFor('v1beta1 to be served', () => admin.request('GET', '/apis/external-secrets.io/v1beta1').then(() => true, () => false));
  // A new CRD is in discovery a moment before its storage answers ("storage is (re)initializing").
  for (const plural of ['externalsecrets', 'secretstores', 'clustersecretstores']) {
    await waitFor(`${plural} to be listable`, () => admin.request('GET', `/apis/external-secrets.io/v1/${plural}?limit=1`).then(() => true, () => false));
  }
  resetDiscovery(admin);
  const rbac = manifestsIn('deploy/rbac');
  // The namespace must exist before the namespaced objects in it.
  await applyManifests(admin, rbac.filter((o) => o.kind === 'Namespace'));
  await applyManifests(admin, rbac.filter((o) => o.kind !== 'Namespace'));
}

/** A kubeconfig file in the peers' state directory that presents `token` to the test apiserver. */
export function kubeconfigWithToken(env: PeersEnv, name: string, token: string): string {
  const ca = readFileSync(path.join(stateDir, 'pki', 'ca.crt')).toString('base64');
  const file = path.join(stateDir, `${name}.kubeconfig`);
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: ${env.KUBE_APISERVER_URL}
    certificate-authority-data: ${ca}
users:
- name: ${name}
  user:
    token: ${JSON.stringify(token)}
contexts:
- name: ${name}
  context: { cluster: local, user: ${name} }
current-context: ${name}
`,
    { mode: 0o600 },
  );
  return file;
}

/** A kubeconfig that authenticates as tessera-system/tessera with a TokenRequest token. */
export async function operatorKubeconfig(admin: KubeClient, env: PeersEnv): Promise<string> {
  const res = await admin.request<{ status: { token: string } }>('POST', '/api/v1/namespaces/tessera-system/serviceaccounts/tessera/token', {
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 7200 } },
  });
  return kubeconfigWithToken(env, 'tessera-operator', res.status.token);
}

/**
 * The controller's environment: nothing of the caller's but PATH and HOME, plus the AWS
 * emulator as its default credential chain (as IRSA or instance credentials would be in a cluster).
 */
export function operatorEnv(env: PeersEnv, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_ENDPOINT_URL: env.AWS_ENDPOINT_URL,
    AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY,
    AWS_REGION: env.AWS_REGION,
    // The gcpsm emulator as the operator's Google endpoints (Secret Manager and OAuth token).
    ...(env.TESSERA_GCPSM_ENDPOINT ? { TESSERA_GCPSM_ENDPOINT: env.TESSERA_GCPSM_ENDPOINT, TESSERA_GCP_TOKEN_URL: env.TESSERA_GCP_TOKEN_URL } : {}),
    ...extra,
  };
}

export interface Operator {
  child: ChildProcess;
  pid: number;
  /** Every line the process wrote (stdout and stderr). */
  logs: string[];
  metricsUrl: string;
  healthUrl: string;
  metrics(): Promise<string>;
  /** Is the process still there (not exited, and answering signal 0)? */
  alive(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs` (a hung event loop ignores SIGTERM). */
  kill(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; forced: boolean }>;
  /** kill() with the default grace; the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts `tessera run` with the operator's kubeconfig and the peers' AWS endpoint. A process that
 * does not start within a minute is killed at once, so a hang at startup cannot outlive its test.
 */
export async function startOperator(
  admin: KubeClient,
  env: PeersEnv,
  args: string[] = [],
  extraEnv: Record<string, string> = {},
  opts: {
    logLevel?: string;
    /** Another identity than tessera-system/tessera (e.g. one with less RBAC, or a bad token). */
    kubeconfig?: string;
    /** 'serving': return once /readyz answers, without waiting for the caches to sync. */
    until?: 'started' | 'serving';
  } = {},
): Promise<Operator> {
  const kubeconfig = opts.kubeconfig ?? (await operatorKubeconfig(admin, env));
  const startedMsg = opts.until === 'serving' ? 'serving health and metrics' : 'started';
  const logs: string[] = [];
  mkdirSync(path.join(stateDir, 'logs'), { recursive: true });
  const logFile = createWriteStream(path.join(stateDir, 'logs', `tessera-${process.pid}-${Date.now()}.log`));
  const childEnv = operatorEnv(env, extraEnv);
  const child = spawn(
    process.execPath,
    [path.join(repoRoot, 'bin/tessera.js'), 'run', `--kubeconfig=${kubeconfig}`, '--metrics-addr=127.0.0.1:0', '--health-addr=127.0.0.1:0', `--log-level=${opts.logLevel ?? 'debug'}`, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv },
  );
  const collect = (d: string) => {
    logFile.write(d);
    logs.push(...d.split('\n').filter(Boolean));
  };
  child.stdout!.setEncoding('utf8').on('data', collect);
  child.stderr!.setEncoding('utf8').on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  void exited.then(() => logFile.end());
  const alive = () => {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    try {
      process.kill(child.pid!, 0);
      return true;
    } catch {
      return false;
    }
  };
  const kill = async (graceMs = 20_000) => {
    let forced = false;
    if (alive()) {
      child.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), graceMs))]);
      if (!done && alive()) {
        forced = true;
        child.kill('SIGKILL');
      }
    }
    return { ...(await exited), forced };
  };
  let started: { health?: string; metrics?: string };
  try {
    started = await waitFor(
      'tessera run to start',
      () => {
        if (!alive()) throw new Error(`tessera exited with ${child.exitCode ?? child.signalCode}:\n${logs.slice(-20).join('\n')}`);
        for (const l of logs) {
          try {
            const j = JSON.parse(l) as { msg?: string; health?: string; metrics?: string };
            if (j.msg === startedMsg) return j;
          } catch {
            /* not JSON */
          }
        }
        return undefined;
      },
      60_000,
    );
  } catch (e) {
    await kill(0);
    throw new Error(`${(e as Error).message}\nlast log lines:\n${logs.slice(-5).join('\n')}`);
  }
  return {
    child,
    pid: child.pid!,
    logs,
    metricsUrl: `http://${started.metrics}/metrics`,
    healthUrl: `http://${started.health}`,
    metrics: async () => (await fetch(`http://${started.metrics}/metrics`)).text(),
    alive,
    kill,
    stop: async () => (await kill()).code,
  };
}

/** Polls `fn` until it returns a truthy value; fails with the last error or value on timeout. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
