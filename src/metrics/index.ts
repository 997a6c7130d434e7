// Metrics of the secret domain. Names are API: ESO's names and labels are kept where ESO has them
// (pkg/controllers/{externalsecret,secretstore}/*metrics in ESO), so ESO's Grafana dashboard and
// existing alerts keep working against Tessera.
import { counter } from './registry.ts';
import { objectCounts, ObjectTable, objectValues, readyCondition, type ObjectSeries, type ObjectValues, type ReadyCondition } from './object-metrics.ts';

export type { ObjectSeries } from './object-metrics.ts';

/**
 * ESO's pair of gauges for one kind (`<family>_status_condition` and `<family>_reconcile_duration`,
 * labels name and namespace, the namespace empty for cluster-scoped kinds), as its *metrics
 * packages register them for every kind it reconciles. Kept compactly, one entry per object
 * (object-metrics.ts).
 */
export interface ReadyGauges {
  statusCondition: ReadyCondition;
  reconcileDuration: ObjectValues;
}

/** `table`: the kind's objects, shared by all of its per-object families (object-metrics.ts). */
function readyGauges(family: string, title: string, table = new ObjectTable()): ReadyGauges {
  return {
    statusCondition: readyCondition(`${family}_status_condition`, `The status condition of a specific ${title} (1 for the current status).`, table),
    reconcileDuration: objectValues(`${family}_reconcile_duration`, `The duration of the last reconcile of the ${title}, in nanoseconds (as ESO).`, 'gauge', table),
  };
}

/** Ready=`status` (a boolean is True or False): 1 on the current status, 0 on the other, as ESO keeps both series. */
export function setReadyCondition(g: ReadyGauges, series: ObjectSeries, status: string | boolean): void {
  g.statusCondition.set(series, typeof status === 'boolean' ? (status ? 'True' : 'False') : status);
}

/** Removes every series of an object that is gone. */
export function forgetReadyGauges(g: ReadyGauges, series: ObjectSeries): void {
  g.statusCondition.remove(series);
  g.reconcileDuration.remove(series);
}

/** Every ExternalSecret with a series, and its four families' values. */
const externalSecretSeries = new ObjectTable();

export const secretMetrics = {
  /** ESO: externalsecret_sync_calls_total{name,namespace}. */
  syncCalls: objectValues('externalsecret_sync_calls_total', 'Total number of the External Secret sync calls.', 'counter', externalSecretSeries),
  /** ESO: externalsecret_sync_calls_error{name,namespace}; we add the reason (a catalog code). Removed with the object. */
  syncErrors: objectCounts('externalsecret_sync_calls_error', 'Total number of the External Secret sync errors, by reason.', 'reason', externalSecretSeries),
  /**
   * ESO: externalsecret_status_condition{name,namespace,condition,status}, per object, deleted with
   * it; and externalsecret_reconcile_duration{name,namespace}, a gauge holding the last reconcile's
   * duration in nanoseconds (ESO sets it from a Go time.Duration). Kept in ESO's unit, so that
   * ESO's alerts on it keep their thresholds; controller_runtime_reconcile_time_seconds is the
   * histogram to use for latency.
   */
  ...readyGauges('externalsecret', 'External Secret', externalSecretSeries),
  /** ESO: externalsecret_provider_api_calls_count{provider,call,status}; we add the store. */
  providerCalls: counter('externalsecret_provider_api_calls_count', 'Provider API calls by provider, store, operation (call) and status.', ['provider', 'store', 'call', 'status']),
  /** Reads answered without a provider call: joined an identical in-flight read or a recent result. */
  coalescedReads: counter('tessera_provider_reads_coalesced_total', 'Remote value reads served by an identical in-flight or recent read instead of a provider call.', ['provider', 'store']),
};

/** Removes every per-object series of an ExternalSecret that is gone (Ready, duration, sync calls and errors). */
export function forgetExternalSecret(series: ObjectSeries): void {
  forgetReadyGauges(secretMetrics, series);
  secretMetrics.syncCalls.remove(series);
  secretMetrics.syncErrors.remove(series);
}

/**
 * ESO's store metrics: one family per kind (secretstore_*, clustersecretstore_*), labels name and
 * namespace (empty for a ClusterSecretStore), as ESO's ssmetrics and cssmetrics.
 */
export const storeMetrics = {
  SecretStore: readyGauges('secretstore', 'Secret Store'),
  ClusterSecretStore: readyGauges('clustersecretstore', 'Cluster Secret Store'),
};

/** Nanoseconds since a performance.now() reading: the unit of ESO's *_reconcile_duration gauges. */
export function nanosecondsSince(startMs: number): number {
  return Math.round((performance.now() - startMs) * 1e6);
}

export const computeMetrics = {
  /** Template worker threads stopped and replaced: past the deadline (time), out of memory, or a crash. */
  workersLost: counter('tessera_template_workers_lost_total', 'Template worker threads stopped and replaced, by reason (time, memory, crash).', ['reason']),
};

/** ESO's ClusterExternalSecret gauges (pkg/controllers/clusterexternalsecret/cesmetrics); `namespace` is empty. */
export const clusterExternalSecretMetrics = readyGauges('clusterexternalsecret', 'Cluster External Secret');

/** ESO's PushSecret and ClusterPushSecret gauges (pkg/controllers/{pushsecret/psmetrics,clusterpushsecret/cpsmetrics}). */
export const pushSecretMetrics = readyGauges('pushsecret', 'Push Secret');
export const clusterPushSecretMetrics = readyGauges('clusterpushsecret', 'Cluster Push Secret');
