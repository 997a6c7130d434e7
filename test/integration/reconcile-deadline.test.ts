// --reconcile-timeout through the operator process: a SecretStore whose Vault server accepts the
// connection and never answers is validated under the reconcile's deadline (2 s here), far below
// the provider call's own deadline (30 s). The abort must reach the provider call (the server sees
// its connection closed at the reconcile deadline, not at the call's), the reconcile is counted
// and logged as past its deadline, and it is retried with backoff.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { KubeClient } from '../../src/kube/client.ts';
import { core, type KubeObject, type Secret } from '../../src/kube/types.ts';
import { secretStores } from '../../src/controllers/resources.ts';
import type { PeersEnv } from '../peers/index.ts';
import { adminClient, freshNamespace, onCleanup, peers, waitFor } from './helpers.ts';
import { installTessera, startOperator, type Operator } from './operator.ts';

const RECONCILE_TIMEOUT_S = 2;
// The apiserver is shared: other operators may run against it. A controller class of its own keeps
// this test's store to this test's operator.
const CONTROLLER_CLASS = `deadline-${process.pid}-${Date.now().toString(36)}`;

let env: PeersEnv;
let admin: KubeClient;
let op: Operator;

/** Connections to the silent server: when each opened and when the client closed it. */
const connections: Array<{ openedAt: number; closedAt?: number }> = [];
let silentUrl: string;

before(async () => {
  env = await peers(['etcd', 'kube-apiserver', 'kube-controller-manager']);
  admin = await adminClient();
  await installTessera(admin);
  // Reads the request and never answers.
  const silent = net.createServer((socket) => {
    const c: { openedAt: number; closedAt?: number } = { openedAt: performance.now() };
    connections.push(c);
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.on('close', () => (c.closedAt = performance.now()));
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  onCleanup(() => silent.close());
  silentUrl = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
  op = await startOperator(admin, env, [`--reconcile-timeout=${RECONCILE_TIMEOUT_S}s`, '--provider-timeout=30s', `--controller-class=${CONTROLLER_CLASS}`]);
});

function metricValue(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('--reconcile-timeout', () => {
  it('aborts a store validation at the reconcile deadline: the provider connection is closed, the reconcile counted, logged and retried', async () => {
    const ns = await freshNamespace(admin, 'deadline');
    await admin.create(core.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'vault-token', namespace: ns }, stringData: { token: 'not-a-real-token' } } as Secret);
    await admin.create(secretStores, {
      apiVersion: 'external-secrets.io/v1',
      kind: 'SecretStore',
      metadata: { name: 'silent', namespace: ns },
      spec: { controller: CONTROLLER_CLASS, provider: { vault: { server: silentUrl, path: 'secret', version: 'v2', auth: { tokenSecretRef: { name: 'vault-token', key: 'token' } } } } },
    } as KubeObject);

    await waitFor('the validation to reach the silent server', async () => connections.length >= 1, 20_000);
    const first = connections[0]!;
    await waitFor('the connection to be closed by the operator', async () => first.closedAt !== undefined, 15_000);
    const heldMs = first.closedAt! - first.openedAt;
    assert.ok(heldMs < (RECONCILE_TIMEOUT_S + 3) * 1000, `closed after ${Math.round(heldMs)} ms: at the reconcile deadline, not the 30 s provider deadline`);

    await waitFor('the deadline metric', async () => metricValue(await op.metrics(), 'tessera_reconcile_deadline_exceeded_total', 'controller="secretstore"') >= 1, 10_000);
    const logged = op.logs.find((l) => l.includes('reconcile passed its deadline') && l.includes(`${ns}/silent`));
    assert.ok(logged, 'a log line names the reconcile that passed its deadline');
    const entry = JSON.parse(logged) as { timeoutMs?: number; retryInMs?: number };
    assert.equal(entry.timeoutMs, RECONCILE_TIMEOUT_S * 1000);
    assert.ok((entry.retryInMs ?? 0) > 0, 'retried with backoff');
    // Retried: the validation comes back after its backoff.
    await waitFor('a retry', async () => connections.length >= 2, 20_000);
    // A cancelled validation is not a verdict on the store: no status says it failed.
    const store = await admin.get<KubeObject & { status?: { conditions?: Array<{ message?: string }> } }>(secretStores, ns, 'silent');
    assert.ok(!(store.status?.conditions ?? []).some((c) => /abort|cancel/i.test(c.message ?? '')), JSON.stringify(store.status));
  });
});
