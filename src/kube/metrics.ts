// Metrics of the controller runtime. Names and labels follow controller-runtime
// (pkg/internal/controller/metrics, pkg/metrics/workqueue.go) and client-go where they have one,
// because dashboards and alerts (ESO's Grafana dashboard among them) are written against them.
import { counter, gauge, histogram } from '../metrics/registry.ts';

const durationBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export const clientMetrics = {
  requests: counter('rest_client_requests_total', 'Kubernetes API requests by method and HTTP status code.', ['method', 'code']),
  // client-go's name and buckets: whether --client-qps holds requests back, and for how long.
  rateLimiterDuration: histogram('rest_client_rate_limiter_duration_seconds', 'Time a Kubernetes API request waited for the client-side rate limit (--client-qps, --client-burst), by verb.', ['verb'], [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60]),
};

/**
 * Queues whose gauges (depth, work in progress) are computed at scrape time, as client-go's queue
 * updates its time-dependent ones on a ticker. A queue registers itself and leaves at shutdown.
 */
export const scrapedQueues = new Set<{ collectMetrics(): void }>();
const collectQueues = (): void => {
  for (const q of scrapedQueues) q.collectMetrics();
};

// controller-runtime labels every workqueue series with `name` and `controller`, both the
// controller's name; dashboards group by either.
export const queueMetrics = {
  depth: gauge('workqueue_depth', 'Current depth of the work queue, by priority.', ['name', 'controller', 'priority'], collectQueues),
  adds: counter('workqueue_adds_total', 'Keys added to the work queue.', ['name', 'controller']),
  retries: counter('workqueue_retries_total', 'Keys re-queued with backoff after an error.', ['name', 'controller']),
  queueDuration: histogram('workqueue_queue_duration_seconds', 'Time a key waits in the queue before a worker takes it.', ['name', 'controller'], durationBuckets),
  workDuration: histogram('workqueue_work_duration_seconds', 'Time a worker spends on one key.', ['name', 'controller'], durationBuckets),
  unfinishedWork: gauge('workqueue_unfinished_work_seconds', 'Seconds of work in progress not yet observed by workqueue_work_duration_seconds.', ['name', 'controller'], collectQueues),
  longestRunning: gauge('workqueue_longest_running_processor_seconds', 'Seconds the longest running worker has been busy.', ['name', 'controller'], collectQueues),
};

export type ReconcileResult = 'success' | 'error' | 'requeue' | 'requeue_after';

export const reconcileMetrics = {
  total: counter('controller_runtime_reconcile_total', 'Reconciliations by controller and result (success, error, requeue, requeue_after).', ['controller', 'result']),
  errors: counter('controller_runtime_reconcile_errors_total', 'Reconciliations that returned an error (terminal or not).', ['controller']),
  terminalErrors: counter('controller_runtime_terminal_reconcile_errors_total', 'Reconciliations that returned a terminal error (not retried).', ['controller']),
  time: histogram('controller_runtime_reconcile_time_seconds', 'Duration of one reconciliation.', ['controller'], durationBuckets),
  activeWorkers: gauge('controller_runtime_active_workers', 'Workers currently reconciling.', ['controller']),
  maxWorkers: gauge('controller_runtime_max_concurrent_reconciles', 'Configured number of workers.', ['controller']),
  deadlineExceeded: counter('tessera_reconcile_deadline_exceeded_total', 'Reconciliations aborted because they ran past --reconcile-timeout (each is retried with backoff).', ['controller']),
};

/**
 * Creates every series of a controller at zero when it is built, as controller-runtime's
 * initMetrics does: an error ratio reads 0, not "no data", before the first error, and the
 * dashboard's controller list is filled before the first reconcile.
 */
export function initControllerMetrics(controller: string, workers: number): void {
  const results: ReconcileResult[] = ['success', 'error', 'requeue', 'requeue_after'];
  for (const result of results) reconcileMetrics.total.inc({ controller, result }, 0);
  reconcileMetrics.errors.inc({ controller }, 0);
  reconcileMetrics.terminalErrors.inc({ controller }, 0);
  reconcileMetrics.activeWorkers.set({ controller }, 0);
  reconcileMetrics.maxWorkers.set({ controller }, workers);
}

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

/** Why an Event was not written: each reason is one label value of tessera_events_dropped_total. */
export type EventDropReason = 'spam_filter' | 'queue_full' | 'write_failed' | 'shutdown';
export const eventDropReasons: readonly EventDropReason[] = ['spam_filter', 'queue_full', 'write_failed', 'shutdown'];

// client-go drops Events with no more than a log line; these make the loss (and the write load
// that Events put on the apiserver) visible, so that "no Event" is never mistaken for "nothing
// happened".
export const eventMetrics = {
  dropped: counter('tessera_events_dropped_total', 'Events not written, by reason (spam_filter, queue_full, write_failed, shutdown).', ['reason']),
  writes: counter('tessera_event_writes_total', 'Event write requests by operation (create, patch) and result (success, error).', ['operation', 'result']),
  pending: gauge('tessera_events_pending', 'Event writes waiting in the buffer (each may carry several occurrences).', []),
};

export const shardMetrics = {
  held: gauge('tessera_shards_held', 'Shards (of --shards) whose Lease this replica holds.', []),
  handovers: counter('tessera_shard_handovers_total', 'Shard Leases this replica took (acquired), gave up after draining (released) or lost without releasing (lost).', ['direction']),
};
