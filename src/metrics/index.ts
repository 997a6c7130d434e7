// Metrics of the secret domain. Names are API: ESO's names are kept where ESO has them, so
// existing dashboards and alerts keep working.
import { counter, gauge, histogram } from './registry.ts';

export const secretMetrics = {
  /** ESO: externalsecret_sync_calls_total{name,namespace}. */
  syncCalls: counter('externalsecret_sync_calls_total', 'ExternalSecret syncs by name and namespace.', ['name', 'namespace']),
  syncErrors: counter('externalsecret_sync_calls_error', 'Failed ExternalSecret syncs by name, namespace and reason.', ['name', 'namespace', 'reason']),
  /** ESO: externalsecret_status_condition{name,namespace,condition,status}. Per object; deleted with it. */
  statusCondition: gauge('externalsecret_status_condition', 'Ready condition of each ExternalSecret (1 for the current status).', ['name', 'namespace', 'condition', 'status']),
  reconcileDuration: histogram('externalsecret_reconcile_duration', 'Duration of ExternalSecret reconciles in seconds.', ['namespace'], [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
  /** ESO: externalsecret_provider_api_calls_count{provider,call,status}; we add the store. */
  providerCalls: counter('externalsecret_provider_api_calls_count', 'Provider API calls by provider, store, operation (call) and status.', ['provider', 'store', 'call', 'status']),
  /** Reads answered without a provider call: joined an identical in-flight read or a recent result. */
  coalescedReads: counter('tessera_provider_reads_coalesced_total', 'Remote value reads served by an identical in-flight or recent read instead of a provider call.', ['provider', 'store']),
  storeStatus: gauge('secretstore_status_condition', 'Ready condition of each SecretStore and ClusterSecretStore (1 for the current status).', ['name', 'namespace', 'kind', 'condition', 'status']),
};

export const computeMetrics = {
  /** Template worker threads stopped and replaced: past the deadline (time), out of memory, or a crash. */
  workersLost: counter('tessera_template_workers_lost_total', 'Template worker threads stopped and replaced, by reason (time, memory, crash).', ['reason']),
};
