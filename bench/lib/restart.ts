// The restart scenario of the scale benchmark (issue 10, item 4; ADR 0003): a controller that is
// stopped and started again over N ExternalSecrets that are already synced should make no fresh
// provider reads and no apiserver writes beyond the refreshes that are due, and a new
// ExternalSecret created meanwhile should not wait behind the re-listed ones. These helpers measure
// what the new process does, from three sides that do not depend on each other:
// - its own counters (provider calls by call, Kubernetes requests by method, reconciles by result);
// - the objects themselves: resourceVersion changes of the bench's Secrets and ExternalSecrets
//   (a write that changes nothing does not change a resourceVersion; a request count shows those);
// - the real kube-apiserver's apiserver_request_total, by verb and resource (every client).
import type { KubeClient } from '../../src/kube/client.ts';
import type { KubeObject, ResourceType } from '../../src/kube/types.ts';
import { requestsByVerbResource } from './apiserver.ts';
import type { Controller } from './operator.ts';
import { procStat } from './proc.ts';
import { diff, parseProm, sumBy, total } from './prom.ts';
import { Sampler, type ProviderWindow } from './sampler.ts';

/**
 * "namespace/name" → resourceVersion of every object of `rt` in the namespaces `inScope` accepts,
 * and how many others the cluster holds (on a shared cluster the controller reconciles those too).
 */
export async function resourceVersions(admin: KubeClient, rt: ResourceType, inScope: (namespace: string) => boolean, labelSelector?: string): Promise<Map<string, string> & { others: number }> {
  const out = Object.assign(new Map<string, string>(), { others: 0 });
  let cont: string | undefined;
  do {
    const page = await admin.list<KubeObject>(rt, undefined, { labelSelector, limit: 2000, continue: cont });
    for (const o of page.items) {
      const ns = o.metadata?.namespace ?? '';
      if (inScope(ns)) out.set(`${ns}/${o.metadata?.name}`, o.metadata?.resourceVersion ?? '');
      else out.others++;
    }
    cont = page.metadata.continue || undefined;
  } while (cont);
  return out;
}

/** Keys of `before` whose resourceVersion differs in `after` (or that are gone); new keys are not counted. */
export function changedKeys(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...before].filter(([k, rv]) => after.get(k) !== rv).map(([k]) => k);
}

/** Work in a controller process at one instant, over all its controllers. */
export interface QueueActivity {
  /** Keys waiting in the work queues (workqueue_depth, every queue and priority). */
  depth: number;
  /** Workers reconciling now (controller_runtime_active_workers). */
  active: number;
  /** Reconciles finished so far (controller_runtime_reconcile_total). */
  reconciles: number;
}

export function queueActivity(metricsText: string): QueueActivity {
  const s = parseProm(metricsText);
  return {
    depth: total(sumBy(s, 'workqueue_depth', [])),
    active: total(sumBy(s, 'controller_runtime_active_workers', [])),
    reconciles: total(sumBy(s, 'controller_runtime_reconcile_total', [])),
  };
}

const activityMetrics = ['workqueue_depth', 'controller_runtime_active_workers', 'controller_runtime_reconcile_total'];

/**
 * Waits until the process has been idle for `quietMs`: every queue empty and no worker busy, in
 * every sample (one each `sampleMs`). Returns the instant of the last sample that saw work (or
 * `from`, if none did): the queues were drained then, to within `sampleMs`.
 * - Keys scheduled for later (a refresh not yet due, a retry's backoff) are not work.
 * - workqueue_depth does not count keys parked by the --store-concurrency/--namespace-concurrency
 *   bulkheads (all the bench's ExternalSecrets share one store, so most keys are parked), but a key
 *   is parked only while workers of its group are busy, so active workers cover them.
 * - Finished reconciles are not a criterion: on a shared cluster the ExternalSecrets of others that
 *   fail (store not found) retry every second or two for ever, so no second is free of reconciles;
 *   such a reconcile takes milliseconds and is rarely caught by a sample.
 */
export async function waitQuiet(ctl: Controller, opts: { from: number; quietMs: number; sampleMs: number; timeoutMs: number }): Promise<{ drainedAt: number; reconciles: number }> {
  let lastBusy = opts.from;
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const t = Date.now();
    if (ctl.child.exitCode !== null) throw new Error(`controller exited (${ctl.child.exitCode}); see ${ctl.logFile}`);
    const a = queueActivity(await ctl.metrics(activityMetrics));
    if (a.depth > 0 || a.active > 0) lastBusy = t;
    if (t - lastBusy >= opts.quietMs) return { drainedAt: lastBusy, reconciles: a.reconciles };
    if (t > deadline) throw new Error(`controller still busy after ${opts.timeoutMs} ms: ${JSON.stringify(a)}`);
    await new Promise((r) => setTimeout(r, opts.sampleMs));
  }
}

/** apiserver_request_total keys that are writes (verbs that can change an object) of the given resources. */
export function writesOf(requests: Record<string, number>, resources: string[]): Record<string, number> {
  return Object.fromEntries(Object.entries(requests).filter(([k]) => {
    const [verb, resource] = k.split(' ');
    return ['POST', 'PUT', 'PATCH', 'APPLY', 'DELETE', 'DELETECOLLECTION'].includes(verb!) && resources.includes(resource!);
  }));
}

export interface RestartInput {
  admin: KubeClient;
  apiserverUrl: string;
  /** The process that synced the N ExternalSecrets (all Ready); it is stopped with SIGTERM. */
  old: Controller;
  /** Starts the controller again with the same flags. */
  start: () => Promise<Controller>;
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

export interface RestartFigures {
  /** SIGTERM → exit of the old process. */
  stopSeconds: number;
  /** Exit code of the old process (0 after a graceful shutdown). */
  stopExitCode: number | null;
  /** Spawn of the new process → /readyz answers 200 (informers synced). */
  readySeconds: number;
  /** Spawn → queues empty and no worker busy for a second (see waitQuiet). */
  drainedSeconds: number;
  /** ExternalSecrets outside the bench's namespaces (a shared cluster's): the new process reconciles them too. */
  otherExternalSecrets: number;
  /** Reconciles of the new process until drained, by controller and result. */
  reconciles: Record<string, number>;
  /** Provider calls of the new process for the bench's store until drained (the new ExternalSecret's read included). */
  provider: ProviderWindow;
  /** Of the N synced objects: how many had their resourceVersion changed (real writes). */
  changed: { secrets: number; externalSecrets: number };
  /** The new process's Kubernetes requests by method (rest_client_requests_total), reads included. */
  controllerRequests: Record<string, number>;
  /** apiserver_request_total writes of Secrets, ExternalSecrets and Events, all clients, stop → drained. */
  apiserverWrites: Record<string, number>;
  /** Every apiserver_request_total change, stop → drained, all clients (LIST and WATCH included). */
  apiserver: Record<string, number>;
  /** Create request of an ExternalSecret sent right after /readyz OK → the bench's watch sees it Ready. */
  newExternalSecretReadyMs: number;
  /** The new process from spawn until drained. */
  controller: { cpuSeconds: number; peakRssMb: number };
}

/** Stops `old`, starts the controller again and measures the restart; returns the figures and the new process. */
export async function measureRestart(i: RestartInput): Promise<{ figures: RestartFigures; ctl: Controller }> {
  // The first process must be done with the initial sync (late status writes, Events) before the
  // "before" snapshot, or its work would be counted as the restart's.
  await waitQuiet(i.old, { from: Date.now(), quietMs: 2000, sampleMs: i.sampleMs, timeoutMs: i.timeoutMs });
  const secretsOf = () => resourceVersions(i.admin, { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true }, i.inScope, 'reconcile.external-secrets.io/managed=true');
  const externalSecretsOf = () => resourceVersions(i.admin, { group: 'external-secrets.io', version: 'v1', plural: 'externalsecrets', kind: 'ExternalSecret', namespaced: true }, i.inScope);
  const [secrets0, es0] = await Promise.all([secretsOf(), externalSecretsOf()]);
  const api0 = await requestsByVerbResource(i.apiserverUrl);
  i.log(`restart: ${es0.size} ExternalSecrets (and ${es0.others} of others) and ${secrets0.size} managed Secrets before; stopping pid ${i.old.pid} (SIGTERM)`);

  const stop0 = Date.now();
  const stopExitCode = await i.old.stop();
  const stopSeconds = (Date.now() - stop0) / 1000;
  const ctl = await i.start();
  const sampler = new Sampler(ctl, i.store, i.sampleMs);
  sampler.start();
  const readyAtMs = await poll(() => fetch(`${ctl.healthUrl}/readyz`).then((r) => r.ok, () => false), i.timeoutMs, 20, 'the new process /readyz OK');
  i.log(`restart: new pid ${ctl.pid} ready ${(readyAtMs - ctl.spawnedAt) / 1000} s after spawn`);

  // Right after the informers synced, the initial list is in the queue: a new ExternalSecret shows
  // whether it is served first.
  const newSent = Date.now();
  const newKey = await i.createNew();
  const newReady = poll(() => i.readyAt(newKey) !== undefined, i.timeoutMs, 20, `${newKey} Ready`);
  const quiet = await waitQuiet(ctl, { from: readyAtMs, quietMs: 1000, sampleMs: i.sampleMs, timeoutMs: i.timeoutMs });
  await newReady;
  const end = Date.now();
  await sampler.sample();
  sampler.stop();
  const proc = procStat(ctl.pid);
  const own = parseProm(await ctl.metrics(['rest_client_requests_total', 'controller_runtime_reconcile_total']));
  const api1 = await requestsByVerbResource(i.apiserverUrl);
  const [secrets1, es1] = await Promise.all([secretsOf(), externalSecretsOf()]);
  const apiserver = diff(api1, api0);
  const figures: RestartFigures = {
    stopSeconds,
    stopExitCode,
    readySeconds: (readyAtMs - ctl.spawnedAt) / 1000,
    drainedSeconds: (quiet.drainedAt - ctl.spawnedAt) / 1000,
    otherExternalSecrets: es0.others,
    reconciles: sumBy(own, 'controller_runtime_reconcile_total', ['controller', 'result']),
    provider: sampler.window(ctl.spawnedAt - 1, end),
    changed: { secrets: changedKeys(secrets0, secrets1).length, externalSecrets: changedKeys(es0, es1).length },
    controllerRequests: sumBy(own, 'rest_client_requests_total', ['method']),
    apiserverWrites: writesOf(apiserver, ['secrets', 'externalsecrets', 'externalsecrets/status', 'events']),
    apiserver,
    newExternalSecretReadyMs: i.readyAt(newKey)! - newSent,
    controller: { cpuSeconds: Math.round((proc?.cpuSeconds ?? 0) * 100) / 100, peakRssMb: Math.round(proc?.hwmMb ?? 0) },
  };
  return { figures, ctl };
}

/** Polls `fn` every `intervalMs` until it is true; returns the Date.now() of that success. */
async function poll(fn: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs: number, what: string): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return Date.now();
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
