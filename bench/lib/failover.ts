// The leader failover scenario of the scale benchmark (issue 15, item 3): two `tessera run`
// processes with --leader-elect; the leader has synced N ExternalSecrets, the standby has been
// running beside it with warm caches. The leader dies (SIGKILL: no lease release, as in a node
// failure or an OOM kill; or SIGTERM: a rollout, which releases the lease). Measured: how long until
// the standby leads, until it is steady (queues drained), and what the switch-over costs: provider
// calls, apiserver writes, objects changed (0 expected, as for a restart: the new leader finds
// every Secret as its ExternalSecret recorded it), and how long a new ExternalSecret created
// right after the kill waits to be Ready (the takeover is part of that wait).
//
// It reuses the restart scenario's measuring helpers (bench/lib/restart.ts): the three sides that
// do not depend on each other (the new leader's counters, resourceVersions, apiserver_request_total).
import type { KubeClient } from '../../src/kube/client.ts';
import { requestsByVerbResource } from './apiserver.ts';
import { poll, type Controller } from './operator.ts';
import { procStat } from './proc.ts';
import { diff, parseProm, sumBy } from './prom.ts';
import { changedKeys, resourceVersions, waitQuiet, writesOf } from './restart.ts';
import { Sampler, type ProviderWindow } from './sampler.ts';

export type FailoverSignal = 'SIGKILL' | 'SIGTERM';

export interface FailoverInput {
  admin: KubeClient;
  apiserverUrl: string;
  /** The leader that synced the N ExternalSecrets (all Ready). */
  leader: Controller;
  /** Starts the standby with the same flags (the same Lease). */
  startStandby: () => Promise<Controller>;
  /** SIGKILL: the lease is left to expire; SIGTERM: the leader releases it on its way out. */
  signal: FailoverSignal;
  /** The Lease's name as leader_election_master_status labels it (--leader-election-id). */
  leaseName: string;
  /** The bench's store, as the provider-call metric labels it. */
  store: string;
  /** Namespaces of this run: objects elsewhere in the cluster are not counted. */
  inScope: (namespace: string) => boolean;
  /** Creates one new ExternalSecret and returns its "namespace/name". */
  createNew: () => Promise<string>;
  /** When the bench's watch saw "namespace/name" Ready (Date.now()), if it has. */
  readyAt: (key: string) => number | undefined;
  sampleMs: number;
  timeoutMs: number;
  log: (m: string) => void;
}

export interface FailoverFigures {
  signal: FailoverSignal;
  /** Standby spawn → its /readyz OK (caches synced while not leading). */
  standbyReadySeconds: number;
  /** Signal sent → the old leader's process exited. */
  leaderExitSeconds: number;
  /** Signal sent → the standby reports it leads (leader_election_master_status 1, polled every 20 ms). */
  takeoverSeconds: number;
  /** Signal sent → the new leader's queues empty and no worker busy for a second (see waitQuiet). */
  drainedSeconds: number;
  /** ExternalSecrets outside the bench's namespaces (a shared cluster's): the new leader reconciles them too. */
  otherExternalSecrets: number;
  /** Reconciles of the new leader after it took over, by controller and result. */
  reconciles: Record<string, number>;
  /** Provider calls of the new leader for the bench's store, signal → drained (the new ExternalSecret's read included). */
  provider: ProviderWindow;
  /** Of the N synced objects: how many had their resourceVersion changed (real writes). */
  changed: { secrets: number; externalSecrets: number };
  /** The new leader's Kubernetes requests by method, signal → drained (Lease and reads included). */
  controllerRequests: Record<string, number>;
  /** apiserver_request_total writes of Secrets, ExternalSecrets, Events and Leases, all clients, signal → drained. */
  apiserverWrites: Record<string, number>;
  /** Every apiserver_request_total change, signal → drained, all clients. */
  apiserver: Record<string, number>;
  /** Create request of an ExternalSecret sent right after the signal → the bench's watch sees it Ready. */
  newExternalSecretReadyMs: number;
  /** The same, counted from the takeover: what the new leader itself took. */
  newExternalSecretReadyAfterTakeoverMs: number;
  /** The new leader from the signal until drained. */
  controller: { cpuSeconds: number; peakRssMb: number };
}

const leaderMetric = 'leader_election_master_status';

/** Whether `ctl` reports that it holds the Lease `lease`. */
async function leads(ctl: Controller, lease: string): Promise<boolean> {
  const s = parseProm(await ctl.metrics([leaderMetric]).catch(() => ''));
  return s.some((x) => x.name === leaderMetric && x.labels.name === lease && x.value === 1);
}

/** Starts a standby beside `leader`, kills the leader and measures the switch-over; returns the figures and the new leader. */
export async function measureFailover(i: FailoverInput): Promise<{ figures: FailoverFigures; ctl: Controller }> {
  if (!(await leads(i.leader, i.leaseName))) throw new Error(`pid ${i.leader.pid} does not hold the Lease ${i.leaseName}`);
  const standby = await i.startStandby();
  const standbyReadyAt = await poll('the standby /readyz OK', () => fetch(`${standby.healthUrl}/readyz`).then((r) => (r.ok ? Date.now() : 0), () => 0), i.timeoutMs, 20);
  if (await leads(standby, i.leaseName)) throw new Error(`the standby pid ${standby.pid} leads while pid ${i.leader.pid} is alive`);
  // The leader must be done with the initial sync (late status writes, Events) before the
  // "before" snapshot, or its work would be counted as the failover's.
  await waitQuiet(i.leader, { from: Date.now(), quietMs: 2000, sampleMs: i.sampleMs, timeoutMs: i.timeoutMs });
  const secretsOf = () => resourceVersions(i.admin, { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true }, i.inScope, 'reconcile.external-secrets.io/managed=true');
  const externalSecretsOf = () => resourceVersions(i.admin, { group: 'external-secrets.io', version: 'v1', plural: 'externalsecrets', kind: 'ExternalSecret', namespaced: true }, i.inScope);
  const [secrets0, es0] = await Promise.all([secretsOf(), externalSecretsOf()]);
  const api0 = await requestsByVerbResource(i.apiserverUrl);
  const own0 = parseProm(await standby.metrics(['rest_client_requests_total', 'controller_runtime_reconcile_total']));
  const cpu0 = procStat(standby.pid)?.cpuSeconds ?? 0;
  const sampler = new Sampler(standby, i.store, i.sampleMs);
  // A sample before the signal: the provider-call window counts from it.
  await sampler.sample();
  sampler.start();
  i.log(`failover: ${es0.size} ExternalSecrets (and ${es0.others} of others), ${secrets0.size} managed Secrets; standby pid ${standby.pid} ready; ${i.signal} to leader pid ${i.leader.pid}`);

  const killedAt = Date.now();
  const exited = new Promise<number>((r) => (i.leader.child.exitCode !== null || i.leader.child.signalCode !== null ? r(Date.now()) : i.leader.child.once('exit', () => r(Date.now()))));
  i.leader.child.kill(i.signal);
  // Right after the kill: the new ExternalSecret waits for the takeover, as a user's would.
  const newKey = await i.createNew();
  const leaderExitAt = await exited;
  await i.leader.stop();
  const leadingAt = await poll('the standby to lead', () => leads(standby, i.leaseName).then((l) => (l ? Date.now() : 0)), i.timeoutMs, 20);
  i.log(`failover: standby leads ${(leadingAt - killedAt) / 1000} s after ${i.signal}`);
  const quiet = await waitQuiet(standby, { from: leadingAt, quietMs: 1000, sampleMs: i.sampleMs, timeoutMs: i.timeoutMs });
  await poll(`${newKey} Ready`, () => i.readyAt(newKey) !== undefined, i.timeoutMs, 20);
  const end = Date.now();
  await sampler.sample();
  sampler.stop();
  const proc = procStat(standby.pid);
  const own1 = parseProm(await standby.metrics(['rest_client_requests_total', 'controller_runtime_reconcile_total']));
  const api1 = await requestsByVerbResource(i.apiserverUrl);
  const [secrets1, es1] = await Promise.all([secretsOf(), externalSecretsOf()]);
  const apiserver = diff(api1, api0);
  const figures: FailoverFigures = {
    signal: i.signal,
    standbyReadySeconds: (standbyReadyAt - standby.spawnedAt) / 1000,
    leaderExitSeconds: (leaderExitAt - killedAt) / 1000,
    takeoverSeconds: (leadingAt - killedAt) / 1000,
    drainedSeconds: (quiet.drainedAt - killedAt) / 1000,
    otherExternalSecrets: es0.others,
    reconciles: diff(sumBy(own1, 'controller_runtime_reconcile_total', ['controller', 'result']), sumBy(own0, 'controller_runtime_reconcile_total', ['controller', 'result'])),
    provider: sampler.window(killedAt - 1, end),
    changed: { secrets: changedKeys(secrets0, secrets1).length, externalSecrets: changedKeys(es0, es1).length },
    controllerRequests: diff(sumBy(own1, 'rest_client_requests_total', ['method']), sumBy(own0, 'rest_client_requests_total', ['method'])),
    apiserverWrites: writesOf(apiserver, ['secrets', 'externalsecrets', 'externalsecrets/status', 'events', 'leases']),
    apiserver,
    newExternalSecretReadyMs: i.readyAt(newKey)! - killedAt,
    newExternalSecretReadyAfterTakeoverMs: i.readyAt(newKey)! - leadingAt,
    controller: { cpuSeconds: Math.round(((proc?.cpuSeconds ?? 0) - cpu0) * 100) / 100, peakRssMb: Math.round(proc?.hwmMb ?? 0) },
  };
  return { figures, ctl: standby };
}

/** The rows of the printed table (label, value, target); none when the scenario did not run. */
export function failoverRows(f: FailoverFigures | undefined): Array<[string, unknown, string]> {
  if (!f) return [];
  const w = (r: Record<string, number>) => `${Object.values(r).reduce((a, b) => a + b, 0)} ${JSON.stringify(r)}`;
  const writeMethods = Object.fromEntries(Object.entries(f.controllerRequests).filter(([m]) => m !== 'GET'));
  return [
    ['failover: signal to the leader', f.signal, ''],
    ['failover: standby spawn → /readyz OK (s)', f.standbyReadySeconds, ''],
    ['failover: signal → old leader exit (s)', f.leaderExitSeconds, ''],
    ['failover: signal → standby leads (s)', f.takeoverSeconds, f.signal === 'SIGKILL' ? '≈ --lease-duration' : '≈ --retry-period'],
    ['failover: signal → queues drained (s)', f.drainedSeconds, ''],
    ['failover: reconciles by the new leader', w(f.reconciles), ''],
    ['failover: other ExternalSecrets in the cluster', f.otherExternalSecrets, ''],
    ['failover: provider calls', w(f.provider.byCall), '≤ 2 (validation + new ES)'],
    ['failover: busiest provider second', f.provider.busiestSecond, ''],
    ['failover: Secrets changed (of N)', f.changed.secrets, '0'],
    ['failover: ExternalSecrets changed (of N)', f.changed.externalSecrets, '0'],
    ['failover: new leader writes by method', w(writeMethods), 'the new ES, the Lease'],
    ['failover: apiserver writes (all clients)', w(f.apiserverWrites), ''],
    ['failover: new ES create → Ready (ms)', f.newExternalSecretReadyMs, 'takeover + < 2000'],
    ['failover: takeover → new ES Ready (ms)', f.newExternalSecretReadyAfterTakeoverMs, '< 2000'],
    ['failover: new leader CPU (s) until drained', f.controller.cpuSeconds, ''],
  ];
}
