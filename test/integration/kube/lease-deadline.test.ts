// Leader election when the apiserver stops answering one replica: its renewals hang (a stalled
// connection, as a partition or an overloaded apiserver gives), the Lease keeps its name until it
// expires, and the other replica then takes it. The hung replica must have stopped leading by
// then: two leaders at once would write the same Secrets. The stall is a TCP relay in front of the
// real kube-apiserver that stops relaying; nothing in the apiserver is faked.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { KubeClient } from '../../../src/kube/client.ts';
import { LeaderElector } from '../../../src/kube/leaderelection.ts';
import { ShardCoordinator } from '../../../src/kube/shardcoordinator.ts';
import pino from 'pino';
import { core, type Lease } from '../../../src/kube/types.ts';
import { adminClient, freshNamespace, onCleanup, peers, sleep, waitFor } from '../helpers.ts';

/** A TCP relay to `target`; stall() stops relaying in both directions (connections stay open). */
async function relay(target: { host: string; port: number }): Promise<{ port: number; stall: () => void; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let stalled = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', (d) => void (stalled || upstream.write(d)));
    upstream.on('data', (d) => void (stalled || client.write(d)));
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    stall: () => {
      stalled = true;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A client of the same apiserver through `port` (a copy of the admin kubeconfig with that server). */
async function clientThrough(kubeconfig: string, port: number): Promise<KubeClient> {
  const doc = YAML.parse(readFileSync(kubeconfig, 'utf8')) as { clusters: Array<{ cluster: { server: string } }> };
  for (const c of doc.clusters) {
    const u = new URL(c.cluster.server);
    u.port = String(port);
    c.cluster.server = u.toString().replace(/\/$/, '');
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-lease-'));
  const file = path.join(dir, 'kubeconfig');
  writeFileSync(file, YAML.stringify(doc), { mode: 0o600 });
  const c = await KubeClient.create({ kubeconfig: file });
  onCleanup(() => c.close());
  return c;
}

describe('leader election when the apiserver stops answering the leader', () => {
  it('the stalled leader stops leading within its renew deadline, before the other replica takes the Lease', { timeout: 60_000 }, async () => {
    const env = await peers();
    const admin = await adminClient();
    const ns = await freshNamespace(admin, 'lease-stall');
    const server = new URL(admin.server);
    const r = await relay({ host: server.hostname, port: Number(server.port) });
    onCleanup(() => r.close());
    const stalledClient = await clientThrough(env.KUBECONFIG, r.port);

    const leading = new Set<string>();
    const log: Array<{ at: number; id: string; leading: boolean; both: boolean }> = [];
    const timing = { leaseDurationMs: 4000, renewDeadlineMs: 2500, retryPeriodMs: 400 };
    const mk = (id: string, client: KubeClient) =>
      new LeaderElector(client, {
        namespace: ns,
        name: 'stall-lease',
        identity: id,
        ...timing,
        onStartedLeading: () => {
          leading.add(id);
          log.push({ at: performance.now(), id, leading: true, both: leading.size > 1 });
        },
        onStoppedLeading: () => {
          leading.delete(id);
          log.push({ at: performance.now(), id, leading: false, both: false });
        },
      });
    const a = mk('a', stalledClient);
    a.start();
    await waitFor('a to lead', () => leading.has('a'), 10_000, 50);
    const b = mk('b', admin);
    b.start();
    await sleep(1000);
    assert.deepEqual([...leading], ['a'], 'b does not lead while a renews');

    const stalledAt = performance.now();
    r.stall();
    await waitFor('b to take the Lease', () => leading.has('b'), 20_000, 50);
    await b.stop();
    await a.stop();

    const aStopped = log.find((e) => e.id === 'a' && !e.leading);
    const bStarted = log.find((e) => e.id === 'b' && e.leading);
    assert.ok(aStopped, 'a stopped leading');
    assert.ok(bStarted);
    assert.ok(aStopped.at < bStarted.at, `a stopped leading (${Math.round(aStopped.at - stalledAt)} ms after the stall) before b started (${Math.round(bStarted.at - stalledAt)} ms)`);
    assert.ok(aStopped.at - stalledAt <= timing.renewDeadlineMs + 500, `a stopped within its renew deadline of the stall: ${Math.round(aStopped.at - stalledAt)} ms`);
    assert.deepEqual(log.filter((e) => e.both), [], 'never two leaders at once');
    const lease = await admin.get<Lease>(core.leases, ns, 'stall-lease');
    assert.equal(lease.spec?.leaseTransitions, 1, 'one handover');
  });
});

describe('a sharded replica shutting down with a reconcile in flight', () => {
  it('keeps renewing that shard\'s Lease until the reconcile ends: the other replica takes the shard only after the release', { timeout: 60_000 }, async () => {
    await peers();
    const admin = await adminClient();
    const ns = await freshNamespace(admin, 'shard-stop');
    const timing = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 300 };
    const mk = (identity: string) =>
      new ShardCoordinator({ client: admin, logger: pino({ level: 'silent' }), namespace: ns, prefix: 'stop', identity, shards: 1, shutdownGraceMs: 30_000, ...timing });
    const a = mk('a');
    a.start();
    await waitFor('a to hold the shard', () => a.states[0] === 'held', 10_000, 50);

    // A reconcile of a key of the one shard, running until the test lets it go.
    let finish!: () => void;
    let aborted = false;
    const inFlight = a.reconcile('team-a/app', new AbortController().signal, (signal) =>
      new Promise((resolve) => {
        finish = () => resolve({});
        signal.addEventListener('abort', () => {
          aborted = true;
          resolve({});
        });
      }));

    const b = mk('b');
    b.start();
    onCleanup(() => b.stop());
    const stopping = a.stop();
    let ran = false;
    const late = await a.reconcile('team-a/late', new AbortController().signal, async () => {
      ran = true;
      return {};
    });
    assert.equal(ran, false, 'no reconcile is admitted once stop() has begun');
    assert.deepEqual(late, { requeueAfter: 500 });
    // Three lease durations: unrenewed, the Lease would have expired twice over.
    const until = performance.now() + 3 * timing.leaseDurationMs;
    while (performance.now() < until) {
      assert.equal(b.states[0], 'idle', 'b must not take the shard while a\'s reconcile runs');
      await sleep(100);
    }
    const lease = await admin.get<Lease>(core.leases, ns, 'stop-shard-0');
    assert.equal(lease.spec?.holderIdentity, 'a', 'a still holds the shard');
    assert.equal(aborted, false, 'the reconcile was not aborted (its Lease was renewed)');

    finish();
    await inFlight;
    await stopping;
    await waitFor('b to take the released shard', () => b.states[0] !== 'idle', 10_000, 50);
  });
});
