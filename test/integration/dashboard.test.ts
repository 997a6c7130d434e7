// ESO's Grafana dashboard against Tessera: the operator runs as its own process with a working and
// a failing SecretStore, ClusterSecretStore and ExternalSecret (AWS on moto), a real Prometheus
// scrapes it every second, and every PromQL expression of the dashboard
// (test/fixtures/eso-dashboard-queries.ts) runs through Prometheus' HTTP API. Each must return
// data, or, where it measures something Tessera does not have, return none for the reason the
// fixture gives. ESO's metrics that no panel uses (store conditions per kind, the reconcile
// duration gauges, the work-in-progress gauges) are checked by name and labels too.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { KubeClient } from '../../src/kube/client.ts';
import type { KubeObject } from '../../src/kube/types.ts';
import { clusterExternalSecrets, clusterSecretStores, externalSecrets, secretStores } from '../../src/controllers/resources.ts';
import { controllerVariable, dashboardControllers, dashboardQueries, runningControllers, substitute, usesController, type DashboardQuery } from '../fixtures/eso-dashboard-queries.ts';
import { startPrometheus, type Prometheus, type Sample } from '../peers/prometheus.ts';
import { adminClient, freshNamespace, onCleanup, peers, waitFor, waitReady } from './helpers.ts';
import { installTessera, startOperator, type Operator } from './operator.ts';

/** What the Prometheus Operator would set from a Service named as README asks. */
const SERVICE = 'external-secrets-metrics';
const run = Math.random().toString(36).slice(2, 7);
const names = {
  remoteKey: `dashboard-${run}`,
  missingKey: `dashboard-${run}-missing`,
  okStore: 'aws',
  brokenStore: 'aws-no-credentials',
  okClusterStore: `dashboard-ok-${run}`,
  brokenClusterStore: `dashboard-broken-${run}`,
  okSecret: 'synced',
  okFromClusterStore: 'synced-from-cluster-store',
  failingSecret: 'missing-key',
};

let admin: KubeClient;
let op: Operator;
let prom: Prometheus;
let ns: string;

const aws = { service: 'SecretsManager', region: 'us-west-2' };
/** Credentials in a Secret that does not exist: the store's validation fails (retried with backoff). */
const missingCredentials = (namespace: string) => ({
  ...aws,
  auth: { secretRef: { accessKeyIDSecretRef: { name: 'no-such-secret', key: 'id', namespace }, secretAccessKeySecretRef: { name: 'no-such-secret', key: 'key', namespace } } },
});

const store = (kind: 'SecretStore' | 'ClusterSecretStore', name: string, provider: unknown, namespace?: string) =>
  ({ apiVersion: 'external-secrets.io/v1', kind, metadata: namespace ? { name, namespace } : { name }, spec: { provider: { aws: provider } } }) as KubeObject;

const externalSecret = (name: string, storeRef: { name: string; kind?: string }, key: string) =>
  ({
    apiVersion: 'external-secrets.io/v1',
    kind: 'ExternalSecret',
    metadata: { name, namespace: ns },
    spec: { refreshInterval: '1h', secretStoreRef: storeRef, target: { name }, data: [{ secretKey: 'password', remoteRef: { key } }] },
  }) as KubeObject;

/** Runs the query until it returns data (samples arrive each second, errors on backoff). */
async function dataOf(expr: string, timeoutMs = 60_000): Promise<Sample[]> {
  return waitFor(`data for ${expr}`, async () => {
    const r = await prom.query(expr);
    return r.length > 0 ? r : undefined;
  }, timeoutMs, 1000);
}

/** Metric names an expression selects (identifiers followed by a selector). */
function metricNames(expr: string): string[] {
  return [...new Set([...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{/g)].map((m) => m[1]!))];
}

before(async () => {
  const env = await peers(['etcd', 'kube-apiserver', 'kube-controller-manager', 'moto']);
  admin = await adminClient();
  await installTessera(admin);
  // The peers are shared: other tests' ExternalSecrets (thousands, from a benchmark) must not
  // queue ahead of ours, so the operator watches this test's namespace only.
  ns = await freshNamespace(admin, 'dash');
  op = await startOperator(admin, env, [`--namespace=${ns}`]);
  // Prometheus first: the failures below must happen while it scrapes, so that increase() and
  // rate() over the dashboard's windows see them.
  prom = await startPrometheus([{ address: new URL(op.metricsUrl).host, labels: { service: SERVICE } }], 1);
  onCleanup(() => prom.stop());
  await waitFor('Prometheus to scrape the operator', async () => (await prom.query('up{job="tessera"} == 1')).length === 1, 30_000, 500);

  const sm = new SecretsManagerClient({ region: env.AWS_REGION, endpoint: env.AWS_ENDPOINT_URL, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  onCleanup(() => sm.destroy());
  await sm.send(new CreateSecretCommand({ Name: names.remoteKey, SecretString: 'dashboard-value' }));

  await admin.create(secretStores, store('SecretStore', names.okStore, aws, ns));
  await admin.create(secretStores, store('SecretStore', names.brokenStore, missingCredentials(ns), ns));
  for (const [name, provider] of [[names.okClusterStore, aws], [names.brokenClusterStore, missingCredentials(ns)]] as const) {
    await admin.create(clusterSecretStores, store('ClusterSecretStore', name, provider));
    onCleanup(() => admin.delete(clusterSecretStores, undefined, name).catch(() => undefined));
  }
  await admin.create(externalSecrets, externalSecret(names.okSecret, { name: names.okStore }, names.remoteKey));
  await admin.create(externalSecrets, externalSecret(names.okFromClusterStore, { name: names.okClusterStore, kind: 'ClusterSecretStore' }, names.remoteKey));
  await admin.create(externalSecrets, externalSecret(names.failingSecret, { name: names.okStore }, names.missingKey));
  // A ClusterExternalSecret whose ExternalSecret the apiserver refuses (a dataFrom entry with no
  // source breaks an ExternalSecret CEL rule): its reconciles fail and are retried with backoff.
  const failingCes = `dashboard-${run}`;
  await admin.create(clusterExternalSecrets, {
    apiVersion: 'external-secrets.io/v1',
    kind: 'ClusterExternalSecret',
    metadata: { name: failingCes },
    spec: { namespaces: [ns], refreshTime: '1h', externalSecretSpec: { secretStoreRef: { name: names.okStore }, dataFrom: [{}] } },
  } as KubeObject);
  onCleanup(() => admin.delete(clusterExternalSecrets, undefined, failingCes).catch(() => undefined));
  await waitReady(admin, ns, names.okSecret, 'True');
  await waitReady(admin, ns, names.okFromClusterStore, 'True');
  await waitReady(admin, ns, names.failingSecret, 'False');
});

describe("ESO's Grafana dashboard against Tessera, through Prometheus", () => {
  for (const q of dashboardQueries) {
    const controllers = usesController(q) ? dashboardControllers : [undefined];
    for (const controller of controllers) {
      const title = controller ? `${q.panel} [$controller=${controller}]` : q.panel;
      it(`${title}: ${q.expect.kind}`, async () => {
        await checkQuery(q, controller);
      });
    }
  }

  it('the variable $controller lists every controller Tessera runs', async () => {
    const values = await waitFor('controller label values', async () => {
      const v = await prom.labelValues(controllerVariable.label, controllerVariable.selector);
      return runningControllers.every((c) => v.includes(c)) ? v : undefined;
    }, 30_000, 1000);
    assert.deepEqual([...values].sort(), [...runningControllers].sort());
  });
});

async function checkQuery(q: DashboardQuery, controller: string | undefined): Promise<void> {
  const expr = controller ? substitute(q.expr, controller) : substitute(q.expr, '');
  assert.ok(!expr.includes('$'), `every Grafana variable is substituted: ${expr}`);
  const e = q.expect;
  if (e.kind === 'data') {
    const result = await dataOf(expr);
    for (const sample of result) {
      for (const label of e.labels ?? []) assert.ok(sample.metric[label], `label ${label} on ${JSON.stringify(sample.metric)} of ${expr}`);
      if (controller && 'controller' in sample.metric) assert.equal(sample.metric.controller, controller);
    }
    return;
  }
  // No data expected: the query must still be valid PromQL (query() throws otherwise) and empty.
  assert.deepEqual(await prom.query(expr), [], `${expr} has no data because ${e.because}`);
  if (e.kind === 'metric-only') {
    for (const selector of e.selectors) {
      const series = await waitFor(`series ${selector}`, async () => {
        const s = await prom.series(selector);
        return s.length > 0 ? s : undefined;
      }, 60_000, 1000);
      assert.ok(series.length > 0, selector);
    }
  } else {
    for (const name of metricNames(expr)) assert.deepEqual(await prom.series(name), [], `${name} does not exist in Tessera: ${e.because}`);
  }
}

describe("ESO's metrics that no panel uses, by name and labels", () => {
  const selectors = () => [
    // Store conditions, one family per kind as ESO (namespace empty for a ClusterSecretStore).
    `secretstore_status_condition{service="${SERVICE}",name="${names.okStore}",namespace="${ns}",condition="Ready",status="True"} == 1`,
    `secretstore_status_condition{name="${names.okStore}",namespace="${ns}",condition="Ready",status="False"} == 0`,
    `secretstore_status_condition{name="${names.brokenStore}",namespace="${ns}",condition="Ready",status="False"} == 1`,
    `clustersecretstore_status_condition{name="${names.okClusterStore}",namespace="",condition="Ready",status="True"} == 1`,
    `clustersecretstore_status_condition{name="${names.brokenClusterStore}",namespace="",condition="Ready",status="False"} == 1`,
    // The reconcile duration gauges (nanoseconds, as ESO).
    `secretstore_reconcile_duration{name="${names.okStore}",namespace="${ns}"} > 0`,
    `clustersecretstore_reconcile_duration{name="${names.brokenClusterStore}",namespace=""} > 0`,
    `externalsecret_reconcile_duration{name="${names.okSecret}",namespace="${ns}"} > 0`,
    // The sync counters carry the ExternalSecret's name.
    `externalsecret_sync_calls_total{name="${names.okSecret}",namespace="${ns}"} >= 1`,
    `externalsecret_sync_calls_error{name="${names.failingSecret}",namespace="${ns}"} >= 1`,
    `externalsecret_status_condition{name="${names.failingSecret}",namespace="${ns}",condition="Ready",status="False"} == 1`,
    // controller-runtime's workqueue labels, and the gauges computed at scrape time.
    'workqueue_depth{name="externalsecret",controller="externalsecret"}',
    'workqueue_adds_total{name="secretstore",controller="secretstore"} > 0',
    'workqueue_unfinished_work_seconds{name="externalsecret",controller="externalsecret"} >= 0',
    'workqueue_longest_running_processor_seconds{name="clustersecretstore",controller="clustersecretstore"} >= 0',
    'controller_runtime_reconcile_errors_total{controller="secretstore"} > 0',
    'controller_runtime_terminal_reconcile_errors_total{controller="externalsecret"}',
  ];

  it('each has the series the operator must produce', async () => {
    for (const s of selectors()) await dataOf(s, 30_000);
  });
});
