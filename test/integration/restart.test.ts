// A controller restart over already-synced ExternalSecrets must cost nothing beyond the refreshes
// that are due: no provider read (ADR 0003's provider-call storm) and no apiserver write. The
// restarted process has no memory of what it wrote; it decides from each Secret's own write
// record (unchangedSinceWritten). Measured on the restarted operator's own /metrics, with AWS
// Secrets Manager on moto, the operator scoped to this test's namespace.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { KubeClient } from '../../src/kube/client.ts';
import type { KubeObject } from '../../src/kube/types.ts';
import { externalSecrets, secretStores } from '../../src/controllers/resources.ts';
import type { PeersEnv } from '../peers/index.ts';
import { adminClient, freshNamespace, onCleanup, peers, uniqueName, waitFor, waitReady } from './helpers.ts';
import { installTessera, startOperator, type Operator } from './operator.ts';

let env: PeersEnv;
let admin: KubeClient;
let ns: string;
const keys = [uniqueName('restart-a'), uniqueName('restart-b'), uniqueName('restart-c')];

/** Sum of a metric's samples whose labels match every given value (a RegExp matches a label). */
function sumOf(text: string, name: string, match: Record<string, string | RegExp> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const ok = Object.entries(match).every(([k, v]) => (typeof v === 'string' ? labels[k] === v : v.test(labels[k] ?? '')));
    if (ok) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

before(async () => {
  env = await peers(['etcd', 'kube-apiserver', 'kube-controller-manager', 'moto']);
  admin = await adminClient();
  await installTessera(admin);
  const sm = new SecretsManagerClient({ region: env.AWS_REGION, endpoint: env.AWS_ENDPOINT_URL, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  onCleanup(() => sm.destroy());
  for (const k of keys) {
    try {
      await sm.send(new CreateSecretCommand({ Name: k, SecretString: JSON.stringify({ user: 'app', password: `pw-${k}` }) }));
    } catch {
      await sm.send(new PutSecretValueCommand({ SecretId: k, SecretString: JSON.stringify({ user: 'app', password: `pw-${k}` }) }));
    }
  }
  ns = await freshNamespace(admin, 'restart');
  await admin.create(secretStores, {
    apiVersion: 'external-secrets.io/v1', kind: 'SecretStore', metadata: { name: 'aws', namespace: ns },
    spec: { provider: { aws: { service: 'SecretsManager', region: env.AWS_REGION } } },
  } as KubeObject);
});

describe('restart', () => {
  it('a restarted controller makes no provider read and no write for ExternalSecrets that are not due', { timeout: 180_000 }, async () => {
    const first = await startOperator(admin, env, [`--namespace=${ns}`]);
    const names: string[] = [];
    // Owner with and without template metadata, Orphan, and a dataFrom extract: every shape of write record.
    const specs: Array<Record<string, unknown>> = [
      { data: [{ secretKey: 'password', remoteRef: { key: keys[0], property: 'password' } }] },
      { data: [{ secretKey: 'user', remoteRef: { key: keys[1], property: 'user' } }], target: { template: { metadata: { labels: { tier: 'db' }, annotations: { team: 'a' } } } } },
      { data: [{ secretKey: 'password', remoteRef: { key: keys[2], property: 'password' } }], target: { creationPolicy: 'Orphan' } },
      { dataFrom: [{ extract: { key: keys[0] } }] },
    ];
    for (const [i, spec] of specs.entries()) {
      const name = `es-${i}`;
      names.push(name);
      await admin.create(externalSecrets, { apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret', metadata: { name, namespace: ns }, spec: { secretStoreRef: { name: 'aws' }, refreshInterval: '1h', ...spec } } as KubeObject);
    }
    for (const n of names) await waitReady(admin, ns, n, 'True');
    const reads = (m: string) => sumOf(m, 'externalsecret_provider_api_calls_count', { call: /^(GetSecretValue|BatchGetSecretValue)$/ });
    assert.ok(reads(await first.metrics()) > 0, 'the first process read from the provider');
    await first.stop();

    const second: Operator = await startOperator(admin, env, [`--namespace=${ns}`]);
    // Every ExternalSecret looked at once by the restarted process (requeued for its next refresh).
    await waitFor('every ExternalSecret reconciled after the restart', async () => {
      const m = await second.metrics();
      return sumOf(m, 'controller_runtime_reconcile_total', { controller: 'externalsecret' }) >= names.length ? m : undefined;
    }, 30_000);
    // Let anything that would follow (a write's watch event, a retry) happen before counting.
    await new Promise((r) => setTimeout(r, 2000));
    const m = await second.metrics();
    assert.equal(reads(m), 0, 'no provider read after the restart');
    assert.equal(sumOf(m, 'externalsecret_sync_calls_total'), 0, 'no sync was due');
    assert.equal(sumOf(m, 'rest_client_requests_total', { method: /^(POST|PUT|PATCH|DELETE)$/ }), 0, 'no apiserver write after the restart');
    assert.equal(sumOf(m, 'controller_runtime_reconcile_total', { controller: 'externalsecret', result: 'error' }), 0);
  });
});
