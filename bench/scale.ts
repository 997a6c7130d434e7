// Scale and provider-cost benchmark: N ExternalSecrets over M namespaces reading K keys of AWS
// Secrets Manager (moto), U unmanaged Secrets beside them, the controller as a separate
// `tessera run` process; measured against the floor of the same apiserver (a plain client doing
// the N Secret creates and N status updates the controller must do, at the same concurrency).
//
//   npm run bench -- --external-secrets 10000 --namespaces 100 --remote-keys 1000 --unmanaged-secrets 20000
//
// Definitions (also in docs/performance.md):
// - all-Ready time: from the first ExternalSecret create request (controller already running,
//   caches synced) until the watcher has seen Ready=True on every one of them;
// - per-ExternalSecret latency: create request sent (bench clock, ms) → watch event showing
//   Ready=True received (same clock, ms); also creationTimestamp → Ready lastTransitionTime
//   (apiserver clock, whole seconds);
// - provider calls: the controller's externalsecret_provider_api_calls_count, by call; busiest
//   second: largest increase over any 1 s window of samples taken every --sample-ms;
// - apiserver requests: apiserver_request_total diffs by verb and resource (every client,
//   including this bench's creates and watch);
// - controller memory and CPU: /proc/<pid>/status VmHWM and /proc/<pid>/stat utime+stime;
// - refresh cycle: from all-Ready until every ExternalSecret has been refreshed once more (its
//   status.refreshTime changed); a new ExternalSecret is created halfway through it.
//
// --scenario restart (bench/lib/restart.ts): after the initial sync, the controller is stopped
// (SIGTERM) and started again with the same flags; reported are the new process's provider calls,
// the writes it caused (resourceVersion changes, its own requests, apiserver_request_total), its
// time to /readyz OK and until its queues are drained, and the create → Ready latency of an
// ExternalSecret created right after the restart. The refresh cycle and the floor are skipped.
//
// --scenario failover (bench/lib/failover.ts): the controller runs with --leader-elect; after the
// initial sync a standby with the same flags starts beside it, the leader is killed
// (--failover-signal, SIGKILL by default: the Lease is left to expire), and reported are the time
// until the standby leads and until its queues are drained, its provider calls and writes, the
// objects changed, and the create → Ready latency of an ExternalSecret created right after the kill.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CreateSecretCommand, DeleteSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { isGone, KubeClient } from '../src/kube/client.ts';
import { core, objectKey, rfc3339, type KubeObject, type ResourceType, type Secret } from '../src/kube/types.ts';
import { FIELD_MANAGER, LABEL_MANAGED, LABEL_MANAGED_VALUE } from '../src/api/constants.ts';
import { fieldOwnerFor } from '../src/sync/secret.ts';
import { operatorKubeconfig } from '../test/peers/operator.ts';
import { ensurePeers, recordedPid, repoRoot } from '../test/peers/index.ts';
import { requestsByVerbResource } from './lib/apiserver.ts';
import { flowControlSnapshot, flowControlWindow } from './lib/flowcontrol.ts';
import { controllerEntry, installTessera, poll, startController, type Controller, type ControllerBuild } from './lib/operator.ts';
import { mapLimit, retry } from './lib/pool.ts';
import { cpuBetween, cpuSnapshot, procStat } from './lib/proc.ts';
import { diff, parseProm, sumBy, total } from './lib/prom.ts';
import { splitControlPlane, type CoreSplit } from './lib/affinity.ts';
import { memoryLimitOption } from './lib/memlimit.ts';
import { measureRestart, type RestartFigures } from './lib/restart.ts';
import { failoverRows, measureFailover, type FailoverFigures, type FailoverSignal } from './lib/failover.ts';
import { Sampler } from './lib/sampler.ts';
import { measureReplicas, reportReplicas } from './lib/replicas.ts';

const externalSecrets: ResourceType = { group: 'external-secrets.io', version: 'v1', plural: 'externalsecrets', kind: 'ExternalSecret', namespaced: true };
const clusterSecretStores: ResourceType = { group: 'external-secrets.io', version: 'v1', plural: 'clustersecretstores', kind: 'ClusterSecretStore', namespaced: false };
const BENCH_LABEL = 'tessera.dev/bench';

interface ES extends KubeObject {
  spec?: Record<string, unknown>;
  status?: { conditions?: Array<{ type: string; status: string; lastTransitionTime?: string }>; refreshTime?: string };
}

const { values: a } = parseArgs({
  options: {
    'external-secrets': { type: 'string', default: '1000' },
    namespaces: { type: 'string', default: '10' },
    'remote-keys': { type: 'string', default: '100' },
    'unmanaged-secrets': { type: 'string', default: '0' },
    concurrent: { type: 'string', default: '16' },
    'create-concurrency': { type: 'string', default: '' },
    // "scale" (initial sync, refresh cycle, floor), "restart" (initial sync, then a restart) or
    // "failover" (initial sync by a leader, then a standby takes over).
    scenario: { type: 'string', default: 'scale' },
    // How "failover" ends the leader: SIGKILL (the Lease expires) or SIGTERM (it is released).
    'failover-signal': { type: 'string', default: 'SIGKILL' },
    // Default 1m for "scale"; 1h for "restart" and "failover", so that no refresh is due while it is measured.
    'refresh-interval': { type: 'string', default: '' },
    'skip-refresh': { type: 'boolean', default: false },
    // Default, as users meet it: the ExternalSecrets exist, then the controller starts. With
    // --create-while-running they are created while the controller runs (latency per object).
    'create-while-running': { type: 'boolean', default: false },
    'ready-timeout': { type: 'string', default: '1800' },
    'sample-ms': { type: 'string', default: '200' },
    // A full /metrics scrape every this many seconds while the controller runs, as Prometheus
    // scrapes a deployed controller (its cost is part of the peak RSS); 0: none.
    'scrape-interval': { type: 'string', default: '30' },
    'controller-arg': { type: 'string', multiple: true, default: [] },
    // e.g. --controller-node-options=--max-old-space-size=160, as a pod memory limit would set.
    'controller-node-options': { type: 'string', default: '' },
    // "dist" runs the compiled controller as the image does; "sources" the checkout's TypeScript.
    'controller-build': { type: 'string', default: 'dist' },
    'keep': { type: 'boolean', default: false },
    // The control plane on the first core, the controller, this bench and moto on the others,
    // from the controller's spawn to the end (bench/lib/affinity.ts).
    'split-cores': { type: 'boolean', default: false },
    // Each controller in a memory cgroup of its own with this limit, as a pod runs it
    // (bench/lib/memlimit.ts): "deployment" is deploy/default's limit; "none", or a quantity.
    'memory-limit': { type: 'string', default: 'deployment' },
    // --replicas R: R controllers with --shards share the initial sync (bench/lib/replicas.ts).
    replicas: { type: 'string', default: '0' },
    shards: { type: 'string', default: '8' },
    out: { type: 'string', default: '' },
  },
});
const N = Number(a['external-secrets']);
const M = Number(a.namespaces);
const K = Number(a['remote-keys']);
const U = Number(a['unmanaged-secrets']);
const C = Number(a.concurrent);
const CREATE_C = Number(a['create-concurrency'] || C);
const SCENARIO = a.scenario!;
if (SCENARIO !== 'scale' && SCENARIO !== 'restart' && SCENARIO !== 'failover') throw new Error(`--scenario must be "scale", "restart" or "failover", not ${JSON.stringify(SCENARIO)}`);
const RESTART = SCENARIO === 'restart';
const FAILOVER = SCENARIO === 'failover';
const SCALE = SCENARIO === 'scale';
const FAILOVER_SIGNAL = a['failover-signal'] as FailoverSignal;
if (FAILOVER_SIGNAL !== 'SIGKILL' && FAILOVER_SIGNAL !== 'SIGTERM') throw new Error(`--failover-signal must be SIGKILL or SIGTERM, not ${JSON.stringify(FAILOVER_SIGNAL)}`);
const REFRESH = a['refresh-interval'] || (RESTART || FAILOVER ? '1h' : '1m');
const REFRESH_MS = (Number(/^(\d+)/.exec(REFRESH)?.[1] ?? 60)) * ({ s: 1000, m: 60_000, h: 3_600_000 }[REFRESH.replace(/^\d+/, '')] ?? 60_000);
const READY_TIMEOUT_MS = Number(a['ready-timeout']) * 1000;
const REPLICAS = Number(a.replicas);
const SPLIT_CORES = a['split-cores']!;
if (REPLICAS > 0 && SPLIT_CORES) throw new Error('--split-cores measures one controller against a control plane of one core: drop --replicas');
if (REPLICAS > 0 && a['create-while-running']) throw new Error('--replicas measures the initial sync of pre-created ExternalSecrets: drop --create-while-running');
const MEMORY_LIMIT = memoryLimitOption(a['memory-limit']!, path.join(repoRoot, 'deploy/default/deployment.yaml'));
const MEMORY_TEXT = MEMORY_LIMIT ? `; controller memory limit ${MEMORY_LIMIT.text}` : '; controller without a memory limit';
const MEMORY_LIMIT_BYTES = MEMORY_LIMIT?.bytes;
const MEMORY_LIMIT_PARAM = MEMORY_LIMIT?.text ?? 'none';
const SAMPLE_MS = Number(a['sample-ms']);
const SCRAPE_S = Number(a['scrape-interval']);
const SCRAPE_TEXT = SCRAPE_S > 0 ? `every ${SCRAPE_S}s` : 'none';
if (!Number.isFinite(SCRAPE_S) || SCRAPE_S < 0) throw new Error(`--scrape-interval must be a number of seconds (0: none), not ${JSON.stringify(a['scrape-interval'])}`);
const BUILD = a['controller-build'] as ControllerBuild;
if (BUILD !== 'dist' && BUILD !== 'sources') throw new Error(`--controller-build must be "dist" or "sources", not ${JSON.stringify(BUILD)}`);
const run = Date.now().toString(36);
const controllerArgs = [
  `--concurrent=${C}`,
  // The bench's store has its own controller class: on a shared cluster, other Tessera (or ESO)
  // processes leave the bench's ExternalSecrets alone, and their writes are not counted as ours.
  `--controller-class=bench-${run}`,
  // A Lease of this run's own, in the namespace the shipped leader-election Role covers; the
  // lease timings stay at their defaults (--controller-arg changes them).
  ...(FAILOVER ? ['--leader-elect', '--leader-election-namespace=tessera-system', `--leader-election-id=bench-${run}`] : []),
  // Everything else at the controller's defaults; --controller-arg adds flags.
  ...(a['controller-arg'] ?? []),
];

const log = (m: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 23)}] ${m}\n`);
const nsName = (i: number) => `bench-${run}-${i}`;
const floorNs = `bench-${run}-floor`;
const keyName = (k: number) => `bench-${run}/key-${k}`;
const secs = (ms: number) => Math.round(ms) / 1000;

function perSecondCounts(latenciesMs: number[]): number[] {
  const counts: number[] = [];
  for (const ms of latenciesMs) {
    const s = Math.floor(ms / 1000);
    while (counts.length <= s) counts.push(0);
    counts[s]!++;
  }
  return counts;
}

function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** Prometheus: the whole /metrics page every `seconds` (0: never), until the returned function is called. */
function scrapeEvery(ctl: Controller, seconds: number): () => void {
  if (seconds <= 0) return () => undefined;
  const timer = setInterval(() => void ctl.metrics().catch(() => undefined), seconds * 1000);
  return () => clearInterval(timer);
}

function externalSecret(i: number, name = `es-${i}`): ES {
  const key = keyName(i % K);
  // A mix of data (properties of the JSON value) and dataFrom.extract (the whole value): both read
  // the same remote value, so every key is shared by about N/K ExternalSecrets either way.
  const spec: Record<string, unknown> = {
    refreshInterval: REFRESH,
    secretStoreRef: { kind: 'ClusterSecretStore', name: `bench-${run}` },
    target: { name },
  };
  if (i % 2 === 0) spec.data = [{ secretKey: 'user', remoteRef: { key, property: 'user' } }, { secretKey: 'password', remoteRef: { key, property: 'password' } }];
  else spec.dataFrom = [{ extract: { key } }];
  return { apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret', metadata: { name, namespace: nsName(i % M) }, spec };
}

/** Watches every ExternalSecret and records, with ms timestamps, when each becomes Ready and refreshes. */
class ReadyWatcher {
  readonly readyAt = new Map<string, number>();
  readonly firstRefreshTime = new Map<string, string>();
  readonly refreshedAt = new Map<string, number>();
  readonly objects = new Map<string, { created?: string; transition?: string }>();
  refreshFrom = Infinity;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private readonly admin: KubeClient;
  constructor(admin: KubeClient) {
    this.admin = admin;
  }
  async start(): Promise<void> {
    const list = await this.admin.list<ES>(externalSecrets, undefined, { limit: 1 });
    let rv = list.metadata.resourceVersion ?? '';
    this.running = (async () => {
      while (!this.abort.signal.aborted) {
        try {
          for await (const ev of this.admin.watch<ES>(externalSecrets, undefined, { resourceVersion: rv, timeoutSeconds: 3600, signal: this.abort.signal })) {
            rv = ev.object.metadata?.resourceVersion ?? rv;
            if (ev.type === 'BOOKMARK' || ev.type === 'DELETED') continue;
            this.observe(ev.object);
          }
        } catch (e) {
          if (this.abort.signal.aborted) return;
          log(`watch error: ${(e as Error).message}; resuming`);
          // Under load the watch can fall behind the apiserver's event window (410 Gone): resuming
          // from the same resourceVersion would fail forever, so list everything again (Ready
          // objects missed meanwhile are seen then, a little late) and watch from the list.
          if (isGone(e)) rv = await this.relist().catch(() => rv);
          else await new Promise((r) => setTimeout(r, 500));
        }
      }
    })();
  }
  /** Observes every ExternalSecret (paged list); returns the resourceVersion to watch from. */
  private async relist(): Promise<string> {
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await this.admin.list<ES>(externalSecrets, undefined, { limit: 2000, continue: cont });
      for (const es of page.items) this.observe(es);
      rv = page.metadata.resourceVersion ?? rv;
      cont = page.metadata.continue || undefined;
    } while (cont);
    return rv;
  }
  private observe(es: ES): void {
    const key = `${es.metadata?.namespace}/${es.metadata?.name}`;
    const ready = es.status?.conditions?.find((c) => c.type === 'Ready');
    const now = Date.now();
    if (ready?.status !== 'True') return;
    if (!this.readyAt.has(key)) {
      this.readyAt.set(key, now);
      this.objects.set(key, { created: es.metadata?.creationTimestamp, transition: ready.lastTransitionTime });
    }
    const rt = es.status?.refreshTime ?? '';
    const first = this.firstRefreshTime.get(key);
    if (now >= this.refreshFrom && first !== undefined && rt !== first && !this.refreshedAt.has(key)) this.refreshedAt.set(key, now);
    if (now < this.refreshFrom || first === undefined) this.firstRefreshTime.set(key, rt);
  }
  async stop(): Promise<void> {
    this.abort.abort();
    await this.running?.catch(() => undefined);
  }
}

async function cleanupOld(admin: KubeClient): Promise<void> {
  const old = await admin.list<KubeObject>(core.namespaces, undefined, { labelSelector: BENCH_LABEL });
  for (const n of old.items) if (!n.metadata?.deletionTimestamp) await admin.delete(core.namespaces, undefined, n.metadata!.name!).catch(() => undefined);
  if (old.items.length) {
    log(`waiting for ${old.items.length} namespaces of earlier runs to be deleted`);
    await poll('earlier bench namespaces to be deleted', async () => (await admin.list(core.namespaces, undefined, { labelSelector: BENCH_LABEL })).items.length === 0, 30 * 60_000, 2000);
  }
  const stores = await admin.list<KubeObject>(clusterSecretStores, undefined, { labelSelector: BENCH_LABEL });
  for (const s of stores.items) await admin.delete(clusterSecretStores, undefined, s.metadata!.name!).catch(() => undefined);
}

async function main(): Promise<void> {
  const machine = { nproc: (await import('node:os')).availableParallelism(), memGiB: Math.round((await import('node:os')).totalmem() / 2 ** 30) };
  log(`N=${N} M=${M} K=${K} U=${U} concurrent=${C} refresh=${REFRESH} on ${machine.nproc} cores, ${machine.memGiB} GiB`);
  const env = await ensurePeers(['etcd', 'kube-apiserver', 'kube-controller-manager', 'moto']);
  const admin = await KubeClient.create({ kubeconfig: env.KUBECONFIG, qps: Infinity, burst: 1, fieldManager: 'tessera-bench' });
  await installTessera(admin);
  const entry = controllerEntry(BUILD);
  const controllerStart = { args: controllerArgs, nodeOptions: a['controller-node-options'], entry, memoryLimitBytes: MEMORY_LIMIT_BYTES };
  log(`controller from ${{ dist: 'compiled dist/ (as the image runs it)', sources: "the checkout's TypeScript sources" }[BUILD]}: ${entry}`);
  await cleanupOld(admin);

  // ---- seed -----------------------------------------------------------------------------------
  const sm = new SecretsManagerClient({ region: env.AWS_REGION, endpoint: env.AWS_ENDPOINT_URL, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY } });
  let t = Date.now();
  await mapLimit(Array.from({ length: K }, (_, k) => k), 16, async (k) => {
    const value = JSON.stringify({ user: `user-${k}`, password: `pw-${k}-${run}` });
    await retry(() => sm.send(new CreateSecretCommand({ Name: keyName(k), SecretString: value })).catch(async (e: Error) => {
      if (e.name !== 'ResourceExistsException') throw e;
      await sm.send(new PutSecretValueCommand({ SecretId: keyName(k), SecretString: value }));
    }));
  });
  log(`seeded ${K} keys in Secrets Manager in ${secs(Date.now() - t)} s`);
  t = Date.now();
  for (const name of [...Array.from({ length: M }, (_, i) => nsName(i)), floorNs]) {
    await admin.create(core.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { [BENCH_LABEL]: run } } });
  }
  await mapLimit(Array.from({ length: U }, (_, u) => u), 32, (u) =>
    retry(() => admin.create(core.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: `unmanaged-${u}`, namespace: nsName(u % M) }, data: { v: Buffer.from(`unmanaged ${u} `.repeat(8)).toString('base64') } } as Secret)),
  );
  log(`created ${M} namespaces and ${U} unmanaged Secrets in ${secs(Date.now() - t)} s`);
  await admin.create(clusterSecretStores, {
    apiVersion: 'external-secrets.io/v1',
    kind: 'ClusterSecretStore',
    metadata: { name: `bench-${run}`, labels: { [BENCH_LABEL]: run } },
    spec: { controller: `bench-${run}`, provider: { aws: { service: 'SecretsManager', region: env.AWS_REGION } } },
  } as KubeObject);

  // ---- ExternalSecrets and the controller ------------------------------------------------------
  const watcher = new ReadyWatcher(admin);
  await watcher.start();
  const createdAt = new Map<string, number>();
  const createAll = () =>
    mapLimit(Array.from({ length: N }, (_, i) => i), CREATE_C, async (i) => {
      const es = externalSecret(i);
      createdAt.set(`${es.metadata!.namespace}/${es.metadata!.name}`, Date.now());
      await retry(() => admin.create(externalSecrets, es));
    });
  const precreate = !a['create-while-running'];
  let createSeconds = 0;
  if (precreate) {
    const c0 = Date.now();
    await createAll();
    createSeconds = secs(Date.now() - c0);
    log(`created ${N} ExternalSecrets in ${createSeconds} s (controller not running yet)`);
  }
  const cleanup = async () => {
    if (a.keep) return;
    for (const name of [...Array.from({ length: M }, (_, i) => nsName(i)), floorNs]) await admin.delete(core.namespaces, undefined, name).catch(() => undefined);
    await admin.delete(clusterSecretStores, undefined, `bench-${run}`).catch(() => undefined);
    await mapLimit(Array.from({ length: K }, (_, k) => k), 16, (k) => sm.send(new DeleteSecretCommand({ SecretId: keyName(k), ForceDeleteWithoutRecovery: true })).catch(() => undefined));
  };
  if (REPLICAS > 0) {
    const r = await measureReplicas(admin, env, {
      replicas: REPLICAS, shards: Number(a.shards), controller: controllerStart, leaseId: `bench-${run}`,
      readyTimeoutMs: READY_TIMEOUT_MS, allReady: () => [...createdAt.keys()].every((k) => watcher.readyAt.has(k)), log,
    });
    reportReplicas(r, { externalSecrets: N, namespaces: M, remoteKeys: K, unmanagedSecrets: U, concurrent: C, memoryLimit: MEMORY_LIMIT_PARAM, machine }, a.out || path.join(repoRoot, 'bench', 'results', `replicas-${REPLICAS}-${N}es-${M}ns-${run}.json`));
    await watcher.stop();
    await cleanup();
    sm.destroy();
    admin.close();
    return;
  }
  const cores = splitCoresIfAsked();
  const api0 = await requestsByVerbResource(env.KUBE_APISERVER_URL);
  const apf0 = await flowControlSnapshot(env.KUBE_APISERVER_URL);
  const cpu0 = cpuSnapshot(peerPids());
  const ctl = await startController(admin, env, controllerStart);
  await poll('controller caches synced (/readyz)', async () => (await fetch(`${ctl.healthUrl}/readyz`)).ok, 120_000, 100);
  const startedAt = Date.now();
  log(`controller pid ${ctl.pid} ready ${secs(startedAt - ctl.spawnedAt)} s after spawn (args: ${controllerArgs.join(' ')})`);
  const sampler = new Sampler(ctl, `ClusterSecretStore/bench-${run}`, SAMPLE_MS);
  sampler.start();
  const stopScraping = scrapeEvery(ctl, SCRAPE_S);
  const rest0: Record<string, number> = {};

  // ---- initial sync -----------------------------------------------------------------------------
  // t0: the controller process starts (pre-created), or the first ExternalSecret is created.
  const t0 = precreate ? ctl.spawnedAt : Date.now();
  let lastLog = 0;
  if (!precreate) {
    const c0 = Date.now();
    await createAll();
    createSeconds = secs(Date.now() - c0);
    log(`created ${N} ExternalSecrets in ${createSeconds} s`);
  }
  await poll(`all ${N} ExternalSecrets Ready`, () => {
    if (Date.now() - lastLog > 5000) {
      lastLog = Date.now();
      log(`${watcher.readyAt.size}/${N} Ready after ${secs(Date.now() - t0)} s; controller ${JSON.stringify(procStat(ctl.pid))}`);
    }
    if (ctl.child.exitCode !== null) throw new Error(`controller exited (${ctl.child.exitCode}); see ${ctl.logFile}`);
    return [...createdAt.keys()].every((k) => watcher.readyAt.has(k));
  }, READY_TIMEOUT_MS, 100);
  const cpu1 = cpuSnapshot({ ...peerPids(), controller: ctl.pid });
  const tReady = Math.max(...[...createdAt.keys()].map((k) => watcher.readyAt.get(k)!));
  watcher.refreshFrom = tReady;
  await sampler.sample();
  const api1 = await requestsByVerbResource(env.KUBE_APISERVER_URL);
  const apf1 = await flowControlSnapshot(env.KUBE_APISERVER_URL);
  const own1 = parseProm(await ctl.metrics(['rest_client_requests_total', 'rest_client_rate_limiter_duration_seconds']));
  const rest1 = sumBy(own1, 'rest_client_requests_total', ['method', 'code']);
  // Summed over requests (they wait side by side): zero when --client-qps never held one back.
  const limiterWait1 = sumBy(own1, 'rest_client_rate_limiter_duration_seconds_sum', []);
  // Pre-created: time from controller start to each Ready; else from each creation to its Ready.
  const latencies = [...createdAt].map(([k, c]) => watcher.readyAt.get(k)! - (precreate ? t0 : c));
  const secondLatencies = [...createdAt.keys()].map((k) => {
    const o = watcher.objects.get(k)!;
    return Date.parse(o.transition ?? '') - Date.parse(o.created ?? '');
  });
  const initialProvider = sampler.window(t0, Date.now());
  const initialProc = sampler.procAt(t0, Date.now());
  const initial = {
    allReadySeconds: secs(tReady - t0),
    fromControllerSpawnSeconds: secs(tReady - ctl.spawnedAt),
    mode: precreate ? 'pre-created, then controller start' : 'created while the controller runs',
    createSeconds,
    latencyMs: { min: Math.min(...latencies), p10: percentile(latencies, 10), p50: percentile(latencies, 50), p90: percentile(latencies, 90), p99: percentile(latencies, 99), max: Math.max(...latencies) },
    // ExternalSecrets becoming Ready in each second after t0: the start, then the steady rate.
    readyPerSecond: perSecondCounts(latencies),
    latencySecondPrecision: { p50: percentile(secondLatencies, 50) / 1000, p99: percentile(secondLatencies, 99) / 1000 },
    provider: initialProvider,
    apiserver: diff(api1, api0),
    flowControl: flowControlWindow(apf1, apf0),
    controllerRequests: diff(rest1, rest0),
    clientRateLimitWaitSeconds: Math.round(total(limiterWait1) * 10) / 10,
    controller: initialProc,
    // Where the machine's CPU went from the controller's spawn until all were Ready (seconds).
    cpu: cpuBetween(cpu0, cpu1),
  };
  log(`all ${N} Ready in ${initial.allReadySeconds} s; provider calls ${JSON.stringify(initialProvider.byCall)}`);

  // ---- one refresh cycle, with a new ExternalSecret created halfway ------------------------------
  let refresh: Record<string, unknown> | undefined;
  if (!a['skip-refresh'] && SCALE) {
    log(`waiting for one refresh cycle (${REFRESH})`);
    await new Promise((r) => setTimeout(r, REFRESH_MS / 2));
    const late = externalSecret(N, 'es-late');
    const lateKey = `${late.metadata!.namespace}/es-late`;
    const lateT = Date.now();
    await admin.create(externalSecrets, late);
    await poll('the new ExternalSecret Ready', () => watcher.readyAt.has(lateKey), 60_000, 20);
    const lateMs = watcher.readyAt.get(lateKey)! - lateT;
    log(`new ExternalSecret during the refresh cycle Ready in ${lateMs} ms`);
    await poll('every ExternalSecret refreshed once', () => {
      if (Date.now() - lastLog > 5000) {
        lastLog = Date.now();
        log(`${watcher.refreshedAt.size}/${N + 1} refreshed`);
      }
      return [...createdAt.keys()].every((k) => watcher.refreshedAt.has(k));
    }, REFRESH_MS * 3, 200);
    const tRefreshed = Math.max(...[...createdAt.keys()].map((k) => watcher.refreshedAt.get(k)!));
    await sampler.sample();
    const api2 = await requestsByVerbResource(env.KUBE_APISERVER_URL);
    const rest2 = sumBy(parseProm(await ctl.metrics(['rest_client_requests_total'])), 'rest_client_requests_total', ['method', 'code']);
    const perSecond = sampler.calls.filter((c) => c.t > tReady && c.t <= tRefreshed);
    refresh = {
      cycleSeconds: secs(tRefreshed - tReady),
      newExternalSecretReadyMs: lateMs,
      provider: sampler.window(tReady, tRefreshed),
      apiserver: diff(api2, api1),
      controllerRequests: diff(rest2, rest1),
      controller: sampler.procAt(tReady, tRefreshed),
      providerSamples: perSecond.length,
    };
    log(`refresh cycle done in ${refresh.cycleSeconds} s`);
  }
  sampler.stop();
  stopScraping();
  const peak = procStat(ctl.pid);
  const full = parseProm(await ctl.metrics());
  const coalesced = total(sumBy(full, 'tessera_provider_reads_coalesced_total', []));
  // Events, as users read them in `kubectl describe`: written, dropped by reason, still buffered.
  const events = {
    writes: sumBy(full, 'tessera_event_writes_total', ['operation', 'result']),
    dropped: sumBy(full, 'tessera_events_dropped_total', ['reason']),
    pending: total(sumBy(full, 'tessera_events_pending', [])),
  };
  // Mean queue wait and reconcile time of the ExternalSecret controller (whole run).
  const mean = (m: string, lbl: Record<string, string>) => {
    const f = (l: Record<string, string>) => Object.entries(lbl).every(([k, v]) => l[k] === v);
    const sum = total(sumBy(full, `${m}_sum`, [], f));
    const count = total(sumBy(full, `${m}_count`, [], f));
    return count ? Math.round((sum / count) * 1e4) / 10 : 0;
  };
  const internals = {
    meanQueueWaitMs: mean('workqueue_queue_duration_seconds', { name: 'externalsecret' }),
    meanReconcileMs: mean('controller_runtime_reconcile_time_seconds', { controller: 'externalsecret' }),
    reconciles: sumBy(full, 'controller_runtime_reconcile_total', ['result'], (l) => l.controller === 'externalsecret'),
  };

  // ---- restart: stop the controller, start it again with the same flags --------------------------
  let restart: RestartFigures | undefined;
  let running = ctl;
  if (RESTART) {
    const r = await measureRestart({
      admin,
      apiserverUrl: env.KUBE_APISERVER_URL,
      old: ctl,
      start: () => startController(admin, env, controllerStart),
      store: `ClusterSecretStore/bench-${run}`,
      inScope: (ns) => ns.startsWith(`bench-${run}-`),
      createNew: async () => {
        const fresh = externalSecret(N + 1, 'es-after-restart');
        await admin.create(externalSecrets, fresh);
        return `${fresh.metadata!.namespace}/es-after-restart`;
      },
      readyAt: (key) => watcher.readyAt.get(key),
      sampleMs: SAMPLE_MS,
      timeoutMs: READY_TIMEOUT_MS,
      log,
    });
    restart = r.figures;
    running = r.ctl;
    log(`restart: drained ${restart.drainedSeconds} s after spawn; provider calls ${JSON.stringify(restart.provider.byCall)}; changed ${JSON.stringify(restart.changed)}`);
  }
  let failover: FailoverFigures | undefined;
  if (FAILOVER) {
    const r = await measureFailover({
      admin,
      apiserverUrl: env.KUBE_APISERVER_URL,
      leader: ctl,
      startStandby: () => startController(admin, env, controllerStart),
      signal: FAILOVER_SIGNAL,
      leaseName: `bench-${run}`,
      store: `ClusterSecretStore/bench-${run}`,
      inScope: (ns) => ns.startsWith(`bench-${run}-`),
      createNew: async () => {
        const fresh = externalSecret(N + 1, 'es-after-failover');
        await admin.create(externalSecrets, fresh);
        return `${fresh.metadata!.namespace}/es-after-failover`;
      },
      readyAt: (key) => watcher.readyAt.get(key),
      sampleMs: SAMPLE_MS,
      timeoutMs: READY_TIMEOUT_MS,
      log,
    });
    failover = r.figures;
    running = r.ctl;
    log(`failover: standby led ${failover.takeoverSeconds} s and drained ${failover.drainedSeconds} s after ${failover.signal}; provider calls ${JSON.stringify(failover.provider.byCall)}; changed ${JSON.stringify(failover.changed)}`);
  }
  await watcher.stop();
  await running.stop();

  // ---- the floor: what the apiserver itself needs for the controller's writes ------------------
  let floor: FloorFigures | undefined;
  let sameWrites: FloorFigures | undefined;
  if (SCALE) {
    log(`floor: ${N} Secret creates, then ${N} ExternalSecret status merge-patches, ${C} at a time`);
    floor = await timedWrites(
      (i) => admin.create(core.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: `floor-${i}`, namespace: floorNs, labels: { [BENCH_LABEL]: run } }, data: { user: Buffer.from(`user-${i}`).toString('base64'), password: Buffer.from(`pw-${i}-${run}`).toString('base64') } } as Secret),
      (i) => admin.patch(externalSecrets, nsName(i % M), `es-${i}`, 'merge', { status: floorStatus(i) }, { subresource: 'status' }),
    );
    log(`floor ${floor.seconds} s (creates ${floor.secretCreatesSeconds} s, patches ${floor.statusPatchesSeconds} s)`);

    // The same writes as the controller's: its objects, its identity (a second figure, not the target's).
    sameWrites = await floorOfTheSameWrites(admin, env);
    log(`floor of the same writes ${sameWrites.seconds} s (creates ${sameWrites.secretCreatesSeconds} s, patches ${sameWrites.statusPatchesSeconds} s)`);
  }

  cores.restore();

  const result = {
    run,
    at: new Date().toISOString(),
    machine,
    scenario: SCENARIO,
    params: { controllerBuild: BUILD, nodeOptions: a['controller-node-options'], memoryLimit: MEMORY_LIMIT_PARAM, splitCores: cores.params, externalSecrets: N, namespaces: M, remoteKeys: K, unmanagedSecrets: U, concurrent: C, createConcurrency: CREATE_C, refreshInterval: REFRESH, scrapeIntervalSeconds: SCRAPE_S, controllerArgs },
    initial,
    refresh,
    restart,
    failover,
    floor,
    ratioToFloor: ratioTo(initial.allReadySeconds, floor),
    floorOfTheSameWrites: sameWrites,
    ratioToFloorOfTheSameWrites: ratioTo(initial.allReadySeconds, sameWrites),
    controller: { heap: ctl.heap, peakRssMb: Math.round(peak?.hwmMb ?? 0), cpuSeconds: peak?.cpuSeconds, coalescedReads: coalesced, ...internals, events, logFile: ctl.logFile },
  };
  const out = a.out || path.join(repoRoot, 'bench', 'results', `${SCENARIO}-${N}es-${M}ns-${K}k-${U}u-${run}.json`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(result, null, 2) + '\n');

  const row = (k: string, v: unknown, target = '') => console.log(`${k.padEnd(46)} ${String(v).padEnd(28)} ${target}`);
  console.log(`\nTessera ${SCENARIO} bench: N=${N} M=${M} K=${K} U=${U} refreshInterval=${REFRESH} scrape=${SCRAPE_TEXT} (${machine.nproc} cores${cores.text}${MEMORY_TEXT})`);
  row('figure', 'value', 'target');
  row(precreate ? 'all Ready after controller start (s)' : 'all Ready after first create (s)', initial.allReadySeconds);
  for (const [label, value, target] of floorRows(result)) row(label, value, target);
  row(precreate ? 'start→Ready p50 / p99 (ms)' : 'latency create→Ready p50 / p99 (ms)', `${initial.latencyMs.p50} / ${initial.latencyMs.p99}`);
  // Measured as the row above: from the controller's start, or from each creation.
  row('first Ready / p10 (ms)', `${initial.latencyMs.min} / ${initial.latencyMs.p10}`);
  row('Ready in each second', initial.readyPerSecond.join(' '));
  row('provider calls, initial sync', `${initialProvider.total} ${JSON.stringify(initialProvider.byCall)}`, `≤ ${Math.ceil(K / 10)}`);
  row('busiest provider second, initial', initialProvider.busiestSecond);
  for (const [label, value, target] of refreshRows(refresh)) row(label, value, target);
  cpuRows(initial.cpu, floor, sameWrites).forEach(([label, value]) => row(label, value));
  row('controller heap limit (MB), its flags', heapText(ctl.heap));
  row('controller peak RSS (MB)', result.controller.peakRssMb, '≤ 250');
  row('controller CPU (s), whole run', result.controller.cpuSeconds);
  row('apiserver requests, initial sync', total(initial.apiserver));
  for (const [label, value, target] of requestRows(initial, events, N)) row(label, value, target);
  for (const [label, value, target] of restartRows(restart)) row(label, value, target);
  for (const [label, value, target] of failoverRows(failover)) row(label, value, target);
  console.log(`result: ${out}`);

  // ---- cleanup ----------------------------------------------------------------------------------
  await cleanup();
  sm.destroy();
  admin.close();
}

/** The controller's heap limit and the heap flags it gave itself, from its start-up line "heap". */
function heapText(heap: Controller['heap']): string {
  return heap ? `${heap.heapLimitMb} ${(heap.heapFlags ?? []).join(' ')}` : 'no "heap" line logged';
}

/**
 * --split-cores: the control plane on one core, the clients on the others, until restore(); its
 * CPU sets for the JSON and for the table's heading. Without the flag, nothing moves.
 */
function splitCoresIfAsked(): { params?: { controlPlane: string; clients: string }; text: string; restore(): void } {
  if (!SPLIT_CORES) return { text: '', restore: () => undefined };
  const { bench, moto, ...controlPlane } = peerPids();
  const split: CoreSplit = splitControlPlane(controlPlane, { bench, moto });
  const text = `; control plane (${Object.keys(controlPlane).join(', ')}) on CPU ${split.controlPlane}, the controller, the bench and moto on CPU ${split.clients}`;
  log(`cores split${text}`);
  return { params: { controlPlane: split.controlPlane, clients: split.clients }, text, restore: split.restore };
}

/**
 * The processes whose CPU time the bench reads at the edges of the initial sync and of the floor:
 * the peers it runs against, and itself (its watch of every ExternalSecret is part of the sync).
 */
function peerPids(): Record<string, number | undefined> {
  return {
    'kube-apiserver': recordedPid('kube-apiserver'),
    etcd: recordedPid('etcd'),
    'kube-controller-manager': recordedPid('kube-controller-manager'),
    moto: recordedPid('moto'),
    bench: process.pid,
  };
}

/**
 * The floor again with what the controller itself wrote, as it wrote it: each Secret it created
 * (labels, annotations, owner reference, data), copied under another name beside it, and each
 * status patch it sent (its condition, binding, refresh time), by the controller's own
 * ServiceAccount and field managers, answered with metadata only. Read before the clock starts.
 */
async function floorOfTheSameWrites(admin: KubeClient, env: Awaited<ReturnType<typeof ensurePeers>>): Promise<FloorFigures> {
  const byKey = <T extends KubeObject>(list: { items: T[] }) => new Map(list.items.map((o) => [objectKey(o), o]));
  const secretsWritten = byKey(await admin.list<Secret>(core.secrets, undefined, { labelSelector: `${LABEL_MANAGED}=${LABEL_MANAGED_VALUE}` }));
  const statusesWritten = byKey(await admin.list<ES>(externalSecrets, undefined));
  const ofSync = (i: number) => `${nsName(i % M)}/es-${i}`;
  const written = Array.from({ length: N }, (_, i) => secretsWritten.get(ofSync(i)));
  const statuses = Array.from({ length: N }, (_, i) => statusesWritten.get(ofSync(i)));
  const missing = written.filter((x) => !x).length + statuses.filter((x) => !x?.status).length;
  if (missing) throw new Error(`the floor of the same writes needs every Secret and status of the sync; ${missing} are missing`);
  const asController = await KubeClient.create({ kubeconfig: await operatorKubeconfig(admin, env), qps: Infinity, burst: 1, fieldManager: FIELD_MANAGER });
  log(`floor of the same writes: the controller's ${N} Secrets and ${N} status patches again, as its ServiceAccount, ${C} at a time`);
  try {
    return await timedWrites(
      (i) => {
        const { name, namespace, labels, annotations, ownerReferences } = written[i]!.metadata!;
        // Under the field manager the controller uses for that ExternalSecret's Secret.
        const owner = ownerReferences?.find((o) => o.controller)?.name ?? name!;
        return asController.withFieldManager(fieldOwnerFor(owner)).create(core.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: `floor-${name}`, namespace, labels, annotations, ownerReferences }, type: written[i]!.type, data: written[i]!.data } as Secret, { metadataOnly: true });
      },
      (i) => {
        const es = statuses[i]!;
        const status = { ...es.status, ...floorStatus(i) };
        return asController.patch(externalSecrets, es.metadata!.namespace, es.metadata!.name!, 'merge', { status }, { subresource: 'status', metadataOnly: true });
      },
    );
  } finally {
    asController.close();
  }
}

/** What a floor's status patch changes: a new refresh time and synced version, so each is a real write. */
function floorStatus(i: number): { refreshTime: string; syncedResourceVersion: string } {
  return { refreshTime: rfc3339(), syncedResourceVersion: `floor-${i}-${Date.now()}` };
}

interface FloorFigures {
  seconds: number;
  secretCreatesSeconds: number;
  statusPatchesSeconds: number;
  concurrency: number;
  cpu: Record<string, number>;
  /** The apiserver's CPU per write: how fast the machine was while it ran. */
  apiserverMsPerWrite: number;
}

/** N Secret creates, then N status patches, C at a time, timed, with the CPU of each process. */
async function timedWrites(create: (i: number) => Promise<unknown>, patch: (i: number) => Promise<unknown>): Promise<FloorFigures> {
  const each = (write: (i: number) => Promise<unknown>) => mapLimit(Array.from({ length: N }, (_, i) => i), C, (i) => retry(() => write(i)));
  const cpu0 = cpuSnapshot(peerPids());
  const f0 = Date.now();
  await each(create);
  const f1 = Date.now();
  await each(patch);
  const f2 = Date.now();
  const cpu = cpuBetween(cpu0, cpuSnapshot(peerPids()));
  return { seconds: secs(f2 - f0), secretCreatesSeconds: secs(f1 - f0), statusPatchesSeconds: secs(f2 - f1), concurrency: C, cpu, apiserverMsPerWrite: msPer(cpu['kube-apiserver'], 2 * N) };
}

/** All Ready over a floor's time (2 decimals); undefined without that floor. */
function ratioTo(allReadySeconds: number, floor: FloorFigures | undefined): number | undefined {
  return floor ? Math.round((allReadySeconds / floor.seconds) * 100) / 100 : undefined;
}

/** The floors' rows of the printed table, each with the sync's ratio to it. */
function floorRows(r: { floor?: FloorFigures | undefined; ratioToFloor?: number | undefined; floorOfTheSameWrites?: FloorFigures | undefined; ratioToFloorOfTheSameWrites?: number | undefined }): Array<[string, unknown, string?]> {
  const rows: Array<[string, unknown, string?]> = [];
  if (r.floor) rows.push(['apiserver floor (s)', r.floor.seconds], ['ratio to floor', r.ratioToFloor, '≤ 2']);
  if (r.floorOfTheSameWrites) rows.push(["floor of the controller's own writes (s)", r.floorOfTheSameWrites.seconds], ['ratio to that floor', r.ratioToFloorOfTheSameWrites]);
  return rows;
}

/** CPU seconds spread over `count` operations, in ms (2 decimals). */
function msPer(seconds: number | undefined, count: number): number {
  return Math.round(((seconds ?? 0) * 1000 / count) * 100) / 100;
}

/**
 * The CPU rows of the printed table: the sync's, and each floor's with the apiserver's CPU per
 * write. "kube-apiserver 6.90, etcd 1.10, …" in the order cpuBetween gives them.
 */
function cpuRows(sync: Record<string, number>, floor: FloorFigures | undefined, sameWrites: FloorFigures | undefined): Array<[string, unknown]> {
  const text = (cpu: Record<string, number>) => Object.entries(cpu).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ');
  const rows: Array<[string, unknown]> = [['CPU in the initial sync (s)', text(sync)]];
  if (floor) rows.push(['CPU in the floor (s)', text(floor.cpu)], ['apiserver CPU per floor write (ms)', floor.apiserverMsPerWrite]);
  if (sameWrites) rows.push(['CPU in the floor of the same writes (s)', text(sameWrites.cpu)], ['apiserver CPU per write, same writes (ms)', sameWrites.apiserverMsPerWrite]);
  // Core time /proc/stat does not account for: the virtual machine was paused by its host.
  const lost = (sync.lost ?? 0) + (floor?.cpu.lost ?? 0) + (sameWrites?.cpu.lost ?? 0);
  if (lost > 0) rows.push(['WARNING: the machine did not run', `for ${lost.toFixed(1)} CPU-s (see "lost"): times of this run are not comparable`]);
  return rows;
}

/** The refresh cycle's rows of the printed table (none with --skip-refresh). */
function refreshRows(refresh: Record<string, unknown> | undefined): Array<[string, unknown, string?]> {
  if (!refresh) return [];
  const rows: Array<[string, unknown, string?]> = [];
  const p = refresh.provider as { total: number; byCall: Record<string, number>; busiestSecond: number };
  rows.push(['refresh cycle (s)', refresh.cycleSeconds]);
  rows.push(['provider calls, refresh cycle', `${p.total} ${JSON.stringify(p.byCall)}`]);
  rows.push(['busiest provider second, refresh', p.busiestSecond, '< --store-qps']);
  rows.push(['new ExternalSecret Ready during refresh (ms)', refresh.newExternalSecretReadyMs, '< 2000']);
  return rows;
}

/** Rows about the controller's API requests: Events written and dropped, and priority and fairness. */
function requestRows(
  initial: { flowControl: ReturnType<typeof flowControlWindow>; controllerRequests: Record<string, number>; clientRateLimitWaitSeconds: number },
  events: { writes: Record<string, number>; dropped: Record<string, number>; pending: number },
  N: number,
): Array<[string, unknown, string?]> {
  const rows: Array<[string, unknown, string?]> = [];
  rows.push(['Events created / patched (controller)', `${events.writes['create success'] ?? 0} / ${events.writes['patch success'] ?? 0}`, `created ≥ N=${N}`]);
  rows.push(['Events dropped / still buffered', `${total(events.dropped)} ${JSON.stringify(diff(events.dropped, {}))} / ${events.pending}`, '0 dropped']);
  // Where the controller's requests were classified (its ServiceAccount: service-accounts /
  // workload-low by default) and whether the apiserver had to push back.
  rows.push(['APF dispatched, initial sync', JSON.stringify(initial.flowControl.dispatched)]);
  rows.push(['APF rejected (429), initial sync', `${total(initial.flowControl.rejected)} ${JSON.stringify(initial.flowControl.rejected)}`]);
  rows.push(['APF mean queue wait (ms), initial sync', JSON.stringify(initial.flowControl.meanWaitMs)]);
  rows.push(['controller requests answered 429, initial', total(Object.fromEntries(Object.entries(initial.controllerRequests).filter(([k]) => k.endsWith(' 429'))))]);
  rows.push(['client rate-limit wait, initial (s, summed)', initial.clientRateLimitWaitSeconds, '0: --client-qps did not bind']);
  return rows;
}

/** The restart scenario's rows of the printed table (none without it). */
function restartRows(restart: RestartFigures | undefined): Array<[string, unknown, string?]> {
  if (!restart) return [];
  const rows: Array<[string, unknown, string?]> = [];
  // Targets as issue 10 sets them: with no refresh due, a restart reads nothing from the
  // provider but the store's validation and the new ExternalSecret's value, and writes nothing.
  const w = (r: Record<string, number>) => `${total(r)} ${JSON.stringify(r)}`;
  const writeMethods = Object.fromEntries(Object.entries(restart.controllerRequests).filter(([m]) => m !== 'GET'));
  rows.push(['restart: old process exit after SIGTERM (s)', restart.stopSeconds]);
  rows.push(['restart: spawn → /readyz OK (s)', restart.readySeconds]);
  rows.push(['restart: spawn → queues drained (s)', restart.drainedSeconds]);
  rows.push(['restart: reconciles by the new process', w(restart.reconciles)]);
  rows.push(['restart: other ExternalSecrets in the cluster', restart.otherExternalSecrets]);
  rows.push(['restart: provider calls', w(restart.provider.byCall), '≤ 2 (validation + new ES)']);
  rows.push(['restart: busiest provider second', restart.provider.busiestSecond]);
  rows.push(['restart: Secrets changed (of N)', restart.changed.secrets, '0']);
  rows.push(['restart: ExternalSecrets changed (of N)', restart.changed.externalSecrets, '0']);
  rows.push(['restart: controller writes by method', w(writeMethods), 'the new ES only']);
  rows.push(['restart: apiserver writes (all clients)', w(restart.apiserverWrites)]);
  rows.push(['restart: new ES create → Ready (ms)', restart.newExternalSecretReadyMs, '< 2000']);
  rows.push(['restart: new process CPU (s) until drained', restart.controller.cpuSeconds]);
  return rows;
}

// Interrupted: exit through process.exit, so that the controllers' exit guards stop them.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

main().then(
  () => process.exit(0),
  (e: Error) => {
    log(`failed: ${e.stack ?? e.message}`);
    process.exit(1);
  },
);
