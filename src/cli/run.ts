// `tessera run`: the controller process.
import { readFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { collectDefaultMetrics } from 'prom-client';
import { KubeClient } from '../kube/client.ts';
import { EventRecorder } from '../kube/events.ts';
import { queuedKeys } from '../kube/workqueue.ts';
import { Manager } from '../kube/manager.ts';
import { createLogger } from '../log.ts';
import { setupControllers } from '../controllers/index.ts';
import { parseDurationMs, timerDelayMs } from '../api/duration.ts';
import { FIELD_MANAGER } from '../api/constants.ts';
import {
  createDesiredSecretCompute, DEFAULT_TEMPLATE_MEMORY_LIMIT, DEFAULT_TEMPLATE_TIMEOUT, DEFAULT_TEMPLATE_WORKERS,
} from '../compute/index.ts';
import { computeMetrics } from '../metrics/index.ts';
import { type FlagSpec, formatFlags, parseFlags, UsageError } from './flags.ts';
import { templateBudgetFromFlags } from './template-budget.ts';
import { esoCompatibilityFlags, esoFlagWarnings, logLevelFromFlag } from './eso-flags.ts';
import { ShardCoordinator } from '../kube/shardcoordinator.ts';
import { heapReport, processHeapContext } from './heap.ts';

/** More shards than this only adds Lease traffic (each shard is a Lease renewed every --retry-period). */
const MAX_SHARDS = 256;

export const runFlags: FlagSpec[] = [
  { name: 'kubeconfig', type: 'string', help: 'Path to a kubeconfig file; else $KUBECONFIG; else the in-cluster service account.' },
  { name: 'namespace', type: 'string', default: '', help: 'Watch ExternalSecrets and SecretStores in this namespace only; all namespaces when empty.' },
  { name: 'concurrent', type: 'number', default: 16, help: 'Number of ExternalSecrets reconciled in parallel.' },
  { name: 'store-concurrency', type: 'number', default: 0, help: 'Most ExternalSecrets of one SecretStore reconciled at once (a bulkhead: a slow or hostile tenant store holds at most this many of the --concurrent workers); 0 means max(1, concurrent/4). ClusterSecretStores are not capped per store.' },
  { name: 'namespace-concurrency', type: 'number', default: 0, help: 'Most ExternalSecrets of one namespace reconciled at once (so many stores of one tenant cannot hold every worker either); 0 means max(1, concurrent/2).' },
  { name: 'controller-class', type: 'string', default: 'default', help: 'Handle only stores whose spec.controller is empty or equals this value.' },
  { name: 'leader-elect', type: 'boolean', default: false, aliases: ['enable-leader-election'], help: 'Elect one active replica through a coordination.k8s.io Lease.' },
  { name: 'leader-election-namespace', type: 'string', help: 'Namespace of the Lease; the pod namespace in-cluster, else "default".' },
  { name: 'leader-election-id', type: 'string', default: 'tessera-controller', help: 'Name of the Lease.' },
  { name: 'lease-duration', type: 'duration', default: '15s', aliases: ['leader-election-lease-duration'], help: 'How long a Lease holds without renewal before others may take it.' },
  { name: 'renew-deadline', type: 'duration', default: '10s', aliases: ['leader-election-renew-deadline'], help: 'How long the leader keeps trying to renew before it steps down.' },
  { name: 'retry-period', type: 'duration', default: '2s', aliases: ['leader-election-retry-period'], help: 'Interval between Lease acquire or renew attempts.' },
  { name: 'metrics-addr', type: 'string', default: ':8080', help: 'Address of the Prometheus /metrics endpoint; "0" disables it.' },
  { name: 'health-addr', type: 'string', default: ':8081', aliases: ['live-addr'], help: 'Address of /healthz and /readyz; "0" disables it.' },
  { name: 'log-level', type: 'string', default: 'info', aliases: ['loglevel'], help: 'One of fatal, error, warn, info, debug, trace.' },
  { name: 'client-qps', type: 'number', default: 1000, help: 'Kubernetes API requests per second (client-side limit; 0 for none).' },
  { name: 'client-burst', type: 'number', default: 2000, help: 'Burst above --client-qps.' },
  { name: 'provider-cache-ttl', type: 'duration', default: '5m', help: 'Longest time a value read from a provider is reused for other ExternalSecrets sharing the store, key and version (never longer than their refreshInterval; edited or force-synced ExternalSecrets and repairs always read fresh).' },
  { name: 'store-requeue-interval', type: 'duration', default: '5m', help: 'How often SecretStores and ClusterSecretStores are validated again.' },
  { name: 'store-qps', type: 'number', default: 20, help: 'Provider API calls per second per store (each batch call counts once).' },
  { name: 'store-burst', type: 'number', default: 40, help: 'Burst above --store-qps.' },
  { name: 'provider-timeout', type: 'duration', default: '30s', help: 'Total deadline of one provider call (Vault, Kubernetes, AWS), retries included; a server that answers slowly or not at all fails the call after it.' },
  {
    name: 'namespaced-store-controller-identity',
    type: 'string',
    default: 'allow',
    help: "allow or deny: may a namespaced SecretStore use the controller's own identity (AWS with no auth, Vault kubernetes auth without serviceAccountRef or secretRef)? deny refuses such stores with status InvalidProviderConfig; ClusterSecretStores always may.",
  },
  { name: 'shutdown-timeout', type: 'duration', default: '30s', help: 'How long SIGTERM waits for in-progress reconciles before aborting them.' },
  { name: 'reconcile-timeout', type: 'duration', default: '2m', help: 'Deadline of one reconcile: past it, its Kubernetes and provider calls are aborted and it is retried with backoff.' },
  { name: 'template-timeout', type: 'duration', default: DEFAULT_TEMPLATE_TIMEOUT, help: 'Wall-clock budget of one ExternalSecret\'s template and rewrite-transform rendering; past it the render is stopped and the ExternalSecret fails with ComputeBudgetExceeded.' },
  { name: 'template-memory-limit', type: 'string', default: DEFAULT_TEMPLATE_MEMORY_LIMIT, help: 'V8 heap of each template worker thread (a quantity such as 64Mi); a render that needs more fails with ComputeBudgetExceeded, and only its worker is replaced.' },
  { name: 'template-workers', type: 'number', default: DEFAULT_TEMPLATE_WORKERS, help: 'Worker threads that render templates off the event loop (each uses a core while rendering).' },
  { name: 'shards', type: 'number', default: 0, help: `Scale out: N virtual shards (1-${MAX_SHARDS}) of namespaces shared by every replica through Leases, each replica reconciling and caching the ExternalSecrets and SecretStores of the shards it holds; cluster-scoped kinds and PushSecrets stay with the elected leader (implies --leader-elect). 0 (off): one active replica. See docs/adr/0008-sharding.md.` },
  { name: 'unsafe-allow-generic-targets', type: 'boolean', default: false, help: 'Write ExternalSecrets with spec.target.manifest (ESO 2.9 generic targets; a ConfigMap in this build) instead of refusing them. ConfigMaps are not encrypted at rest: opt-in, as in ESO. Needs deploy/rbac/generic-targets.yaml.' },
  { name: 'generic-target-kinds', type: 'string', default: '', help: 'With --unsafe-allow-generic-targets: the only kinds, besides ConfigMap, a generic target may be, comma-separated as Kind (core group), Kind.group or *.group (e.g. AppConfig.config.example.com,*.argoproj.io). Empty: any namespaced kind the operator\'s RBAC allows, except the kinds always refused (docs/compatibility.md).' },
];

export const runUsage = `Usage: tessera run [flags]

Starts the controller: watches ExternalSecrets, SecretStores and ClusterSecretStores and keeps
the target Secrets in sync with the external secret managers.

Flags:
${formatFlags(runFlags)}

ESO's other controller flags are accepted with a logged warning (see docs/flags-eso.md):
  ${esoCompatibilityFlags.map((s) => `--${s.name}`).join(' ')}
`;

function inClusterNamespace(): string | undefined {
  try {
    return readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8').trim();
  } catch {
    return undefined;
  }
}

export async function run(argv: string[]): Promise<number> {
  const { values: f } = parseFlags([...runFlags, ...esoCompatibilityFlags], argv);
  const esoWarnings = esoFlagWarnings(f);
  const identity = String(f['namespaced-store-controller-identity']);
  if (identity !== 'allow' && identity !== 'deny') throw new UsageError(`--namespaced-store-controller-identity: expected allow or deny, got ${JSON.stringify(identity)}`);
  const providerTimeoutMs = parseDurationMs(String(f['provider-timeout']));
  if (!(providerTimeoutMs > 0)) throw new UsageError('--provider-timeout: must be greater than zero');
  const reconcileTimeoutMs = parseDurationMs(String(f['reconcile-timeout']));
  if (!(reconcileTimeoutMs > 0)) throw new UsageError('--reconcile-timeout: must be greater than zero');
  const shutdownTimeoutMs = parseDurationMs(String(f['shutdown-timeout']));
  const log = createLogger(logLevelFromFlag(String(f['log-level'])));
  for (const { flag, reason } of esoWarnings) log.warn({ flag: `--${flag}`, reason }, 'ESO flag accepted without effect');
  if (reconcileTimeoutMs < providerTimeoutMs) {
    // Allowed, but then a slow provider call is cut by the reconcile's deadline (retried with
    // backoff, no status) before its own deadline can report it as Unreachable in status.
    log.warn({ reconcileTimeoutMs, providerTimeoutMs }, '--reconcile-timeout is shorter than --provider-timeout');
  }
  collectDefaultMetrics();
  log.info({ ...heapReport(processHeapContext(), getHeapStatistics().heap_size_limit), mallocArenaMax: process.env['MALLOC_ARENA_MAX'] }, 'heap');
  const str = (k: string) => (f[k] === undefined ? undefined : String(f[k]));
  const { timeoutMs: templateTimeoutMs, memoryLimitMb } = templateBudgetFromFlags(f);
  const templateWorkers = Math.floor(Number(f['template-workers']));
  if (!(templateWorkers >= 1)) throw new UsageError('--template-workers: must be at least 1');
  const shards = Number(f.shards);
  if (!Number.isInteger(shards) || shards < 0 || shards > MAX_SHARDS) throw new UsageError(`--shards: expected a whole number from 0 to ${MAX_SHARDS}, got ${f.shards}`);
  const lease = {
    namespace: str('leader-election-namespace') ?? inClusterNamespace() ?? 'default',
    name: String(f['leader-election-id']),
    leaseDurationMs: parseDurationMs(String(f['lease-duration'])),
    renewDeadlineMs: parseDurationMs(String(f['renew-deadline'])),
    retryPeriodMs: parseDurationMs(String(f['retry-period'])),
  };
  const client = await KubeClient.create({
    kubeconfig: str('kubeconfig') || process.env.KUBECONFIG || undefined,
    qps: Number(f['client-qps']),
    burst: Number(f['client-burst']),
    fieldManager: FIELD_MANAGER,
    userAgent: FIELD_MANAGER,
  });
  // Events yield to queued reconciles: a large sync's Secrets and statuses get the apiserver first.
  const events = new EventRecorder(client, { component: 'tessera', backlog: queuedKeys, log: (m, x) => log.warn(x ?? {}, m) });
  const manager = new Manager({
    client,
    logger: log,
    metricsAddr: str('metrics-addr'),
    healthAddr: str('health-addr'),
    events,
    // Sharded replicas still elect a leader for the cluster-scoped controllers.
    leaderElection: { enabled: f['leader-elect'] === true || shards > 0, ...lease },
  });
  const sharding = shards > 0
    ? new ShardCoordinator({ client, logger: log, ...lease, prefix: lease.name, identity: manager.identity, shards, shutdownGraceMs: shutdownTimeoutMs })
    : undefined;
  // Tenant-driven compute (templates, rewrite transforms) runs in worker threads with a budget.
  const compute = createDesiredSecretCompute({
    workers: templateWorkers,
    timeoutMs: templateTimeoutMs,
    memoryLimitMb,
    onWorkerLost: (reason) => {
      computeMetrics.workersLost.inc({ reason });
      log.warn({ reason }, 'template worker stopped and replaced');
    },
  });
  manager.add({ name: 'compute-pool', leaderOnly: false, start: () => undefined, stop: () => compute.close() });
  await setupControllers(manager, {
    client,
    events,
    logger: log,
    compute,
    config: {
      namespace: str('namespace') || undefined,
      controllerClass: String(f['controller-class']),
      concurrent: Math.max(1, Number(f.concurrent)),
      storeConcurrency: Number(f['store-concurrency']) > 0 ? Number(f['store-concurrency']) : undefined,
      namespaceConcurrency: Number(f['namespace-concurrency']) > 0 ? Number(f['namespace-concurrency']) : undefined,
      providerCacheTtlMs: parseDurationMs(String(f['provider-cache-ttl'])),
      storeRequeueIntervalMs: parseDurationMs(String(f['store-requeue-interval'])),
      storeQps: Number(f['store-qps']),
      storeBurst: Number(f['store-burst']),
      providerTimeoutMs,
      namespacedStoreControllerIdentity: identity,
      reconcileTimeoutMs,
      shutdownGraceMs: shutdownTimeoutMs,
      allowGenericTargets: f['unsafe-allow-generic-targets'] === true,
      genericTargetKinds: String(f['generic-target-kinds'] ?? '').split(',').map((k) => k.trim()).filter((k) => k !== ''),
      sharding,
    },
  });
  // Added last, so stopped first: the shards are drained and released before the controllers stop.
  if (sharding) manager.add(sharding);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'signal received');
    // The grace, then the few seconds aborted reconciles get to return (src/kube/controller.ts),
    // then releasing the Lease, stopping the watches and flushing Events.
    const timeout = setTimeout(() => {
      log.error('graceful shutdown timed out; exiting');
      process.exit(1);
    }, timerDelayMs(shutdownTimeoutMs + 10_000));
    timeout.unref();
    void manager.stop().then(() => {
      log.flush();
      process.exit(0);
    });
  };
  // A stray rejection must not take the controller down (as controller-runtime recovers panics
  // in reconcilers): log it loudly and keep serving.
  process.on('unhandledRejection', (reason) => {
    log.error({ err: reason instanceof Error ? reason.message : String(reason) }, 'unhandled promise rejection');
  });
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  await manager.start();
  log.info({ identity: manager.identity, ...manager.bound }, 'started');
  return new Promise<number>(() => {
    /* runs until a signal */
  });
}
