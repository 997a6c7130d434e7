// Metrics of the secret domain. Names are API: ESO's names and labels are kept where ESO has them
// (pkg/controllers/{externalsecret,secretstore}/*metrics in ESO), so ESO's Grafana dashboard and
// existing alerts keep working against Tessera.
import { counter, gauge } from './registry.ts';

export const secretMetrics = {
  /** ESO: externalsecret_sync_calls_total{name,namespace}. */
  syncCalls: counter('externalsecret_sync_calls_total', 'Total number of the External Secret sync calls.', ['name', 'namespace']),
  /** ESO: externalsecret_sync_calls_error{name,namespace}; we add the reason (a catalog code). */
  syncErrors: counter('externalsecret_sync_calls_error', 'Total number of the External Secret sync errors, by reason.', ['name', 'namespace', 'reason']),
  /** ESO: externalsecret_status_condition{name,namespace,condition,status}. Per object; deleted with it. */
  statusCondition: gauge('externalsecret_status_condition', 'The status condition of a specific External Secret (1 for the current status).', ['name', 'namespace', 'condition', 'status']),
  /**
   * ESO: externalsecret_reconcile_duration{name,namespace}, a gauge holding the last reconcile's
   * duration in nanoseconds (ESO sets it from a Go time.Duration). Kept in ESO's unit, so that
   * ESO's alerts on it keep their thresholds; controller_runtime_reconcile_time_seconds is the
   * histogram to use for latency.
   */
  reconcileDuration: gauge('externalsecret_reconcile_duration', 'The duration of the last reconcile of the External Secret, in nanoseconds (as ESO).', ['name', 'namespace']),
  /** ESO: externalsecret_provider_api_calls_count{provider,call,status}; we add the store. */
  providerCalls: counter('externalsecret_provider_api_calls_count', 'Provider API calls by provider, store, operation (call) and status.', ['provider', 'store', 'call', 'status']),
  /** Reads answered without a provider call: joined an identical in-flight read or a recent result. */
  coalescedReads: counter('tessera_provider_reads_coalesced_total', 'Remote value reads served by an identical in-flight or recent read instead of a provider call.', ['provider', 'store']),
};

/**
 * ESO's store metrics: one family per kind (secretstore_*, clustersecretstore_*), labels name and
 * namespace (empty for a ClusterSecretStore), as ESO's ssmetrics and cssmetrics.
 */
export const storeMetrics = {
  SecretStore: {
    statusCondition: gauge('secretstore_status_condition', 'The status condition of a specific Secret Store (1 for the current status).', ['name', 'namespace', 'condition', 'status']),
    reconcileDuration: gauge('secretstore_reconcile_duration', 'The duration of the last reconcile of the Secret Store, in nanoseconds (as ESO).', ['name', 'namespace']),
  },
  ClusterSecretStore: {
    statusCondition: gauge('clustersecretstore_status_condition', 'The status condition of a specific Cluster Secret Store (1 for the current status).', ['name', 'namespace', 'condition', 'status']),
    reconcileDuration: gauge('clustersecretstore_reconcile_duration', 'The duration of the last reconcile of the Cluster Secret Store, in nanoseconds (as ESO).', ['name', 'namespace']),
  },
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
export const clusterExternalSecretMetrics = {
  statusCondition: gauge('clusterexternalsecret_status_condition', 'The status condition of a specific Cluster External Secret (1 for the current status).', ['name', 'namespace', 'condition', 'status']),
  reconcileDuration: gauge('clusterexternalsecret_reconcile_duration', 'The duration of the last reconcile of the Cluster External Secret, in nanoseconds (as ESO).', ['name', 'namespace']),
};
