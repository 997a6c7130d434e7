// Metrics of the controller runtime. Names follow controller-runtime and client-go where they
// have one, because dashboards and alerts are written against them.
import { counter, gauge, histogram } from '../metrics/registry.ts';

const durationBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export const clientMetrics = {
  requests: counter('rest_client_requests_total', 'Kubernetes API requests by method and HTTP status code.', ['method', 'code']),
};

export const queueMetrics = {
  depth: gauge('workqueue_depth', 'Current depth of the work queue.', ['name', 'priority']),
  adds: counter('workqueue_adds_total', 'Keys added to the work queue.', ['name']),
  retries: counter('workqueue_retries_total', 'Keys re-queued with backoff after an error.', ['name']),
  queueDuration: histogram('workqueue_queue_duration_seconds', 'Time a key waits in the queue before a worker takes it.', ['name'], durationBuckets),
  workDuration: histogram('workqueue_work_duration_seconds', 'Time a worker spends on one key.', ['name'], durationBuckets),
  unfinishedWork: gauge('workqueue_unfinished_work_seconds', 'Seconds of work in progress not yet finished.', ['name']),
  longestRunning: gauge('workqueue_longest_running_processor_seconds', 'Seconds the longest running worker has been busy.', ['name']),
};

export const reconcileMetrics = {
  total: counter('controller_runtime_reconcile_total', 'Reconciliations by controller and result (success, error, requeue_after, terminal_error).', ['controller', 'result']),
  errors: counter('controller_runtime_reconcile_errors_total', 'Reconciliations that returned an error.', ['controller']),
  time: histogram('controller_runtime_reconcile_time_seconds', 'Duration of one reconciliation.', ['controller'], durationBuckets),
  activeWorkers: gauge('controller_runtime_active_workers', 'Workers currently reconciling.', ['controller']),
  maxWorkers: gauge('controller_runtime_max_concurrent_reconciles', 'Configured number of workers.', ['controller']),
  deadlineExceeded: counter('tessera_reconcile_deadline_exceeded_total', 'Reconciliations aborted because they ran past --reconcile-timeout (each is retried with backoff).', ['controller']),
};

export const informerMetrics = {
  lists: counter('tessera_informer_lists_total', 'Full lists (initial and re-lists) by resource.', ['resource']),
  watches: counter('tessera_informer_watches_total', 'Watch streams opened by resource.', ['resource']),
  watchErrors: counter('tessera_informer_watch_errors_total', 'Watch streams ended by an error, by resource and reason (gone, error).', ['resource', 'reason']),
  events: counter('tessera_informer_events_total', 'Watch events received by resource and type.', ['resource', 'type']),
  synced: gauge('tessera_informer_synced', '1 when the informer has listed and its watch is healthy.', ['resource']),
  objects: gauge('tessera_informer_cached_objects', 'Objects held in the informer cache.', ['resource']),
};

export const leaderMetrics = {
  isLeader: gauge('leader_election_master_status', '1 when this process holds the leader lease.', ['name']),
};
