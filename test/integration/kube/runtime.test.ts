// Client verbs, events and leader election against the real kube-apiserver, and the
// `tessera run` process: health, readiness, metrics, SIGTERM.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { KubeClient } from '../../../src/kube/client.ts';
import { ApiError } from '../../../src/kube/client.ts';
import { EventRecorder } from '../../../src/kube/events.ts';
import { LeaderElector } from '../../../src/kube/leaderelection.ts';
import { core, type CoreEvent, type KubeObject, type Lease, type Secret } from '../../../src/kube/types.ts';
import { externalSecrets } from '../../../src/controllers/resources.ts';
import { repoRoot } from '../../peers/index.ts';
import { adminClient, freshNamespace, peers, sleep, uniqueName, waitFor } from '../helpers.ts';

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

describe('KubeClient against kube-apiserver', () => {
  let client: KubeClient;
  let ns: string;
  before(async () => {
    await peers();
    client = await adminClient();
    ns = await freshNamespace(client, 'client');
  });

  it('creates, gets, merge/strategic/apply patches with a field manager, and deletes', async () => {
    const name = uniqueName('cm');
    await client.create<ConfigMap>(core.configMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data: { a: '1' } });
    await client.patch(core.configMaps, ns, name, 'merge', { data: { b: '2' } });
    await client.patch(core.configMaps, ns, name, 'strategic', { metadata: { labels: { s: 'y' } } });
    const applied = await client
      .withFieldManager('tessera-apply-test')
      .apply<ConfigMap>(core.configMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data: { c: '3' } });
    assert.deepEqual(applied.data, { a: '1', b: '2', c: '3' });
    assert.equal(applied.metadata?.labels?.s, 'y');
    const managers = (applied.metadata?.managedFields as Array<{ manager: string; operation: string }>).map((m) => `${m.manager}/${m.operation}`);
    assert.ok(managers.includes('tessera-apply-test/Apply'), managers.join(','));
    assert.ok(managers.includes('tessera-test/Update'), managers.join(','));
    await client.delete(core.configMaps, ns, name);
    assert.equal(await client.tryGet(core.configMaps, ns, name), undefined);
  });

  it('answers a write asked for metadata only with the metadata of the written object: a Secret create and update, a custom resource status patch', async () => {
    const name = uniqueName('meta');
    const secret: Secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns }, data: { password: Buffer.from('s3cr3t').toString('base64') } };
    const created = await client.create(core.secrets, secret, { metadataOnly: true });
    assert.equal(created.kind, 'PartialObjectMetadata');
    assert.equal((created as Secret).data, undefined, 'no data in the answer');
    const stored = await client.get<Secret>(core.secrets, ns, name);
    assert.equal(created.metadata?.resourceVersion, stored.metadata?.resourceVersion, 'the resourceVersion of the write');
    const updated = await client.update(core.secrets, { ...stored, data: { password: Buffer.from('n3w').toString('base64') } }, { metadataOnly: true });
    assert.equal(updated.kind, 'PartialObjectMetadata');
    assert.notEqual(updated.metadata?.resourceVersion, stored.metadata?.resourceVersion);
    assert.equal((await client.get<Secret>(core.secrets, ns, name)).metadata?.resourceVersion, updated.metadata?.resourceVersion);

    const es = await client.create<KubeObject & { spec: unknown }>(externalSecrets, { apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret', metadata: { name, namespace: ns }, spec: { secretStoreRef: { kind: 'ClusterSecretStore', name: 'none' }, data: [{ secretKey: 'k', remoteRef: { key: 'k' } }] } });
    const patched = await client.patch<KubeObject & { status?: unknown; spec?: unknown }>(externalSecrets, ns, name, 'merge', { status: { refreshTime: '2026-01-01T00:00:00Z' } }, { subresource: 'status', metadataOnly: true });
    assert.equal(patched.kind, 'PartialObjectMetadata');
    assert.equal(patched.status, undefined);
    assert.equal(patched.spec, undefined);
    assert.notEqual(patched.metadata?.resourceVersion, es.metadata?.resourceVersion);
    const read = await client.get<KubeObject & { status?: { refreshTime?: string } }>(externalSecrets, ns, name);
    assert.equal(read.status?.refreshTime, '2026-01-01T00:00:00Z', 'the patch was applied');
    assert.equal(read.metadata?.resourceVersion, patched.metadata?.resourceVersion);
  });

  it('reports API errors with code, reason and the server message', async () => {
    await assert.rejects(client.get(core.configMaps, ns, 'missing'), (e: unknown) => e instanceof ApiError && e.code === 404 && e.reason === 'NotFound');
    await assert.rejects(
      client.create(core.configMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Bad_Name', namespace: ns } }),
      (e: unknown) => e instanceof ApiError && e.code === 422 && /Bad_Name/.test(e.message),
    );
  });

  it('updates status with a retry on conflict', async () => {
    // Namespaces have a status subresource; two writers race on it.
    const target = await freshNamespace(client, 'status');
    const mark = (v: string) => (obj: KubeObject & { status?: { conditions?: unknown[] } }) => ({
      ...obj,
      status: { ...obj.status, conditions: [{ type: `Test${v}`, status: 'True', reason: 'Test', message: v, lastTransitionTime: new Date().toISOString().replace(/\.\d+Z/, 'Z') }] },
    });
    // A stale read followed by a concurrent write makes the first PUT conflict.
    const stale = await client.get(core.namespaces, undefined, target);
    await client.updateStatus(core.namespaces, mark('A')(stale));
    let attempts = 0;
    const res = await client.updateStatusWithRetry(core.namespaces, undefined, target, (obj) => {
      attempts++;
      return mark('B')(attempts === 1 ? stale : obj);
    });
    assert.equal(attempts, 2, 'the first attempt conflicted and was retried with a fresh read');
    assert.equal((res as { status: { conditions: Array<{ type: string }> } }).status.conditions[0]!.type, 'TestB');
  });
});

describe('EventRecorder against kube-apiserver', () => {
  it('aggregates repeated events into one with a count, and rate-limits a hot loop', async () => {
    await peers();
    const client = await adminClient();
    const ns = await freshNamespace(client, 'events');
    const obj = await client.create<ConfigMap>(core.configMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'subject', namespace: ns } });
    const rec = new EventRecorder(client, { component: 'tessera-test', burst: 10, refillMs: 60_000 });
    for (let i = 0; i < 5; i++) rec.warning(obj, 'SyncFailed', 'the same failure');
    for (let i = 0; i < 20; i++) rec.normal(obj, 'Distinct', `message ${i}`);
    await rec.drain();
    const events = (await client.list<CoreEvent>(core.events, ns)).items;
    const failed = events.filter((e) => e.reason === 'SyncFailed');
    assert.equal(failed.length, 1, 'identical events are aggregated');
    assert.equal(failed[0]!.count, 5);
    assert.equal(failed[0]!.involvedObject.uid, obj.metadata?.uid);
    // A burst of 10 per object: the 5 identical ones folded into one write (one token), 9 distinct
    // messages; the 10th and later are combined into one Event, which has no token left.
    assert.equal(events.filter((e) => e.reason === 'Distinct').length, 9, 'the spam filter caps Events per object');
    assert.equal(rec.droppedByReason.spam_filter, 11);
    assert.equal(rec.dropped, 11);
  });
});

describe('LeaderElector against kube-apiserver', () => {
  it('one of two contenders leads; the other takes over after the lease expires', async () => {
    await peers();
    const client = await adminClient();
    const ns = await freshNamespace(client, 'lease');
    const leading = new Set<string>();
    const mk = (id: string) =>
      new LeaderElector(client, {
        namespace: ns,
        name: 'test-lease',
        identity: id,
        leaseDurationMs: 3000,
        renewDeadlineMs: 2000,
        retryPeriodMs: 300,
        onStartedLeading: () => leading.add(id),
        onStoppedLeading: () => leading.delete(id),
      });
    const a = mk('a');
    a.start();
    await waitFor('a to lead', () => leading.has('a'));
    const b = mk('b');
    b.start();
    await sleep(1500);
    assert.deepEqual([...leading], ['a'], 'b must not lead while a renews');
    // Simulate a crash of a: it stops renewing without releasing.
    (a as unknown as { abort: AbortController }).abort.abort();
    const t0 = Date.now();
    await waitFor('b to take over', () => leading.has('b'), 10_000, 50);
    const took = Date.now() - t0;
    assert.ok(took <= 3000 + 1000, `takeover took ${took} ms, lease is 3000 ms`);
    const lease = await client.get<Lease>(core.leases, ns, 'test-lease');
    assert.equal(lease.spec?.holderIdentity, 'b');
    assert.equal(lease.spec?.leaseTransitions, 1);
    await b.stop();
    const released = await client.get<Lease>(core.leases, ns, 'test-lease');
    assert.equal(released.spec?.holderIdentity ?? '', '', 'released on stop');
  });
});

describe('tessera run (process)', () => {
  function startTessera(args: string[], kubeconfig: string): { child: ChildProcess; logs: string[] } {
    const logs: string[] = [];
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin/tessera.js'), 'run', `--kubeconfig=${kubeconfig}`, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.setEncoding('utf8').on('data', (d: string) => logs.push(...d.split('\n').filter(Boolean)));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => logs.push(...d.split('\n').filter(Boolean)));
    return { child, logs };
  }
  const started = (logs: string[]) => {
    for (const l of logs) {
      try {
        const j = JSON.parse(l) as { msg?: string; health?: string; metrics?: string; identity?: string };
        if (j.msg === 'started') return j;
      } catch {
        /* not JSON */
      }
    }
    return undefined;
  };
  const exited = (c: ChildProcess) => new Promise<number | null>((r) => (c.exitCode !== null ? r(c.exitCode) : c.once('exit', (code) => r(code))));

  it('serves /healthz, /readyz and /metrics, logs JSON, and exits 0 on SIGTERM', async () => {
    const env = await peers();
    const { child, logs } = startTessera(['--metrics-addr=127.0.0.1:0', '--health-addr=127.0.0.1:0'], env.KUBECONFIG);
    try {
      const s = await waitFor('tessera to start', () => started(logs), 30_000);
      assert.equal((await fetch(`http://${s.health}/healthz`)).status, 200);
      assert.equal((await fetch(`http://${s.health}/readyz`)).status, 200);
      const metrics = await (await fetch(`http://${s.metrics}/metrics`)).text();
      assert.match(metrics, /rest_client_requests_total/);
      for (const l of logs) assert.doesNotThrow(() => JSON.parse(l), `log line is not JSON: ${l}`);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited(child), 0);
  });

  it('two replicas with --leader-elect: killing the leader hands over within the lease duration', async () => {
    const env = await peers();
    const client = await adminClient();
    const ns = await freshNamespace(client, 'le');
    const args = ['--leader-elect', `--leader-election-namespace=${ns}`, '--lease-duration=4s', '--renew-deadline=3s', '--retry-period=500ms', '--metrics-addr=0', '--health-addr=0'];
    const a = startTessera(args, env.KUBECONFIG);
    let b: ReturnType<typeof startTessera> | undefined;
    const holder = async () => (await client.tryGet<Lease>(core.leases, ns, 'tessera-controller'))?.spec?.holderIdentity;
    try {
      const aId = (await waitFor('a to start', () => started(a.logs), 30_000)).identity;
      await waitFor('a to hold the lease', async () => (await holder()) === aId);
      const bb = (b = startTessera(args, env.KUBECONFIG));
      const bId = (await waitFor('b to start', () => started(bb.logs), 30_000)).identity;
      await sleep(1500);
      assert.equal(await holder(), aId, 'the standby does not take a held lease');
      a.child.kill('SIGKILL'); // a crash: no release
      const t0 = Date.now();
      await waitFor('b to take over', async () => (await holder()) === bId, 15_000, 100);
      const took = Date.now() - t0;
      assert.ok(took < 4000 + 1500, `handover took ${took} ms with a 4 s lease`);
      // A graceful stop releases the lease at once.
      bb.child.kill('SIGTERM');
      assert.equal(await exited(bb.child), 0);
      assert.equal((await holder()) ?? '', '');
    } finally {
      a.child.kill('SIGKILL');
      b?.child.kill('SIGKILL');
    }
  });
});
