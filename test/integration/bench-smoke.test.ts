// A small run of the scale benchmark (bench/scale.ts) as a separate process, as `npm run bench`
// runs it: it must complete, get every ExternalSecret Ready, write its JSON result, and show
// the invariants the benchmark exists to protect (identical reads coalesced, no per-object
// provider calls, no GET of target Secrets before creating them, a new ExternalSecret Ready fast
// during a refresh cycle). The restart scenario (--scenario restart) runs at a small N: its
// figures must be printed and be numbers (their values are for docs/performance.md, not for a
// test on a shared machine). So does the leader failover scenario (--scenario failover), with the
// invariants that hold whatever the machine's load: the standby took over, after the leader died.
// The restart scenario runs with --split-cores: the shared peers get their CPUs back afterwards.
// The scale run puts the controller under the shipped Deployment's memory limit (the default), in a
// cgroup of its own: the controller must find that limit and size its heap from it. The restart
// run is without one (--memory-limit none): no old-space cap, the fixed growing factor.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { recordedPid, repoRoot } from '../peers/index.ts';
import { allowedCpus } from '../../bench/lib/affinity.ts';
import { memoryLimitOption } from '../../bench/lib/memlimit.ts';

const N = 200;
const M = 4;
const K = 20;
const U = 50;

interface Result {
  params: { externalSecrets: number; controllerBuild: string; memoryLimit: string };
  initial: {
    allReadySeconds: number;
    latencyMs: { p50: number; p99: number };
    provider: { byCall: Record<string, number>; total: number; busiestSecond: number };
    apiserver: Record<string, number>;
    controllerRequests: Record<string, number>;
    cpu: Record<string, number>;
  };
  refresh: { newExternalSecretReadyMs: number; provider: { byCall: Record<string, number>; total: number; busiestSecond: number } };
  floor: { seconds: number; cpu: Record<string, number>; apiserverMsPerWrite: number };
  ratioToFloor: number;
  floorOfTheSameWrites: { seconds: number; secretCreatesSeconds: number; statusPatchesSeconds: number; cpu: Record<string, number>; apiserverMsPerWrite: number };
  ratioToFloorOfTheSameWrites: number;
  controller: { heap: { heapLimitMb: number; memoryLimitMb?: number; heapFlags: string[] }; peakRssMb: number; cpuSeconds: number; coalescedReads: number };
}

const shippedLimit = memoryLimitOption('deployment', path.join(repoRoot, 'deploy/default/deployment.yaml'))!;
const shippedLimitMb = shippedLimit.bytes / 2 ** 20;

/** Runs bench/scale.ts with `args`; returns its exit code and everything it printed. */
async function runBench(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [path.join(repoRoot, 'bench/scale.ts'), ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: repoRoot });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  return { code, output };
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('bench/scale.ts smoke run', () => {
  it(`syncs ${N} ExternalSecrets over ${M} namespaces from ${K} keys and reports sane figures`, { timeout: 180_000 }, async () => {
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'tessera-bench-')), 'result.json');
    const { code, output } = await runBench([
      `--external-secrets=${N}`, `--namespaces=${M}`, `--remote-keys=${K}`, `--unmanaged-secrets=${U}`,
      '--refresh-interval=10s', '--ready-timeout=90', `--out=${out}`,
    ]);
    assert.equal(code, 0, `bench failed:\n${output.slice(-4000)}`);
    assert.match(output, new RegExp(`result: ${escapeRegExp(out)}`));
    assert.ok(existsSync(out), 'JSON result written');
    const r = JSON.parse(readFileSync(out, 'utf8')) as Result;

    assert.equal(r.params.externalSecrets, N);
    // By default the controller runs compiled, as the image runs it, not through the type stripper.
    assert.equal(r.params.controllerBuild, 'dist');
    assert.match(output, /controller from compiled dist\//);
    // In its own cgroup with the Deployment's limit, the controller found the limit and made half of it old space.
    assert.equal(r.params.memoryLimit, shippedLimit.text);
    assert.match(output, new RegExp(`^Tessera scale bench: N=${N} .*; controller memory limit ${escapeRegExp(shippedLimit.text)}\\)$`, 'm'));
    assert.equal(r.controller.heap.memoryLimitMb, shippedLimitMb, JSON.stringify(r.controller.heap));
    assert.ok(r.controller.heap.heapFlags.includes(`--max-old-space-size=${shippedLimitMb / 2}`), JSON.stringify(r.controller.heap));
    assert.ok(r.controller.heap.heapLimitMb > shippedLimitMb / 2 && r.controller.heap.heapLimitMb < shippedLimitMb, JSON.stringify(r.controller.heap));
    assert.match(output, new RegExp(`^controller heap limit \\(MB\\), its flags +${r.controller.heap.heapLimitMb} .*--max-old-space-size=${shippedLimitMb / 2}\\b`, 'm'));
    assert.ok(r.initial.allReadySeconds > 0 && r.floor.seconds > 0 && r.ratioToFloor > 0);
    assert.ok(r.initial.latencyMs.p50 > 0 && r.initial.latencyMs.p99 >= r.initial.latencyMs.p50);
    // Every ExternalSecret was created and got a status write.
    // The ExternalSecrets exist before the controller starts; it creates one Secret for each.
    assert.ok((r.initial.apiserver['POST secrets'] ?? 0) >= N, JSON.stringify(r.initial.apiserver));
    assert.ok((r.initial.apiserver['PATCH externalsecrets/status'] ?? 0) >= N, JSON.stringify(r.initial.apiserver));

    // Identical reads are coalesced and batched: the initial sync costs at most one provider
    // call per distinct key (in practice a few BatchGetSecretValue calls), never one per object.
    const reads = (r.initial.provider.byCall.GetSecretValue ?? 0) + (r.initial.provider.byCall.BatchGetSecretValue ?? 0);
    assert.ok(reads >= 1 && reads <= K, `provider reads for the initial sync: ${JSON.stringify(r.initial.provider.byCall)} (K=${K})`);
    assert.ok(r.controller.coalescedReads >= N - K, `coalesced reads ${r.controller.coalescedReads}`);
    // Target Secrets are created without a GET first (they are not in the managed-Secret cache).
    assert.ok((r.initial.controllerRequests['GET 404'] ?? 0) < N / 10, `controller GETs answered 404: ${JSON.stringify(r.initial.controllerRequests)}`);

    // A steady refresh cycle reuses and batches reads; a new ExternalSecret does not wait for it.
    assert.ok(r.refresh.provider.total <= K, `provider calls in the refresh cycle: ${JSON.stringify(r.refresh.provider.byCall)}`);
    assert.ok(r.refresh.provider.busiestSecond <= 20, `busiest provider second ${r.refresh.provider.busiestSecond}`);
    assert.ok(r.refresh.newExternalSecretReadyMs < 5000, `new ExternalSecret Ready after ${r.refresh.newExternalSecretReadyMs} ms`);
    assert.ok(r.controller.peakRssMb > 0 && r.controller.peakRssMb < 400, `peak RSS ${r.controller.peakRssMb} MB`);

    // Where the CPU went in the sync and in the floor: the peers and the controller are read by
    // pid, and nothing can use more CPU than the cores had in the time.
    const cores = os.availableParallelism();
    for (const [phase, cpu, seconds, who] of [
      ['sync', r.initial.cpu, r.initial.allReadySeconds, ['kube-apiserver', 'etcd', 'kube-controller-manager', 'moto', 'bench', 'controller']],
      ['floor', r.floor.cpu, r.floor.seconds, ['kube-apiserver', 'etcd', 'kube-controller-manager', 'moto', 'bench']],
      ['floor of the same writes', r.floorOfTheSameWrites.cpu, r.floorOfTheSameWrites.seconds, ['kube-apiserver', 'etcd', 'kube-controller-manager', 'moto', 'bench']],
    ] as const) {
      for (const k of [...who, 'other', 'idle', 'steal', 'lost']) assert.equal(typeof cpu[k], 'number', `${phase} CPU of ${k}: ${JSON.stringify(cpu)}`);
      assert.ok(cpu['kube-apiserver']! > 0, `${phase}: ${JSON.stringify(cpu)}`);
      const used = Object.entries(cpu).filter(([k]) => k !== 'idle' && k !== 'steal' && k !== 'lost').reduce((a, [, v]) => a + v, 0);
      // Sampled at the phase's edges, a little after them: half a second of slack per core.
      assert.ok(used <= (seconds + 0.5) * cores, `${phase}: ${used} CPU-s in ${seconds} s on ${cores} cores: ${JSON.stringify(cpu)}`);
    }
    assert.ok(r.initial.cpu.controller! > 0, JSON.stringify(r.initial.cpu));
    assert.equal(r.floor.cpu.controller, undefined, 'the controller is stopped before the floor');
    assert.ok(r.floor.apiserverMsPerWrite > 0, String(r.floor.apiserverMsPerWrite));
    assert.match(output, /^CPU in the initial sync \(s\) +kube-apiserver \d+\.\d\d, etcd /m);
    assert.match(output, /^CPU in the floor \(s\) +kube-apiserver \d+\.\d\d, /m);

    // The floor of the controller's own writes: its Secrets and status patches again, timed apart.
    const same = r.floorOfTheSameWrites;
    assert.ok(same.secretCreatesSeconds > 0 && same.statusPatchesSeconds > 0, JSON.stringify(same));
    assert.ok(Math.abs(same.seconds - same.secretCreatesSeconds - same.statusPatchesSeconds) < 0.01, JSON.stringify(same));
    assert.equal(same.cpu.controller, undefined, 'the controller is stopped before the floors');
    assert.ok(same.apiserverMsPerWrite > 0, String(same.apiserverMsPerWrite));
    assert.equal(r.ratioToFloorOfTheSameWrites, Math.round((r.initial.allReadySeconds / same.seconds) * 100) / 100);
    assert.match(output, /^floor of the controller's own writes \(s\) +\d+\.\d+/m);
    assert.match(output, /^CPU in the floor of the same writes \(s\) +kube-apiserver \d+\.\d\d, /m);
  });

  it('restarts the controller over 20 synced ExternalSecrets with the cores split and prints the restart figures as numbers', { timeout: 180_000 }, async () => {
    const n = 20;
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'tessera-bench-')), 'restart.json');
    const peers = (['kube-apiserver', 'etcd', 'kube-controller-manager', 'moto'] as const).map((name) => ({ name, pid: recordedPid(name) }));
    const cpusBefore = peers.map(({ name, pid }) => `${name} ${pid === undefined ? 'no pid recorded' : allowedCpus(pid)}`);
    const { code, output } = await runBench(['--scenario=restart', '--split-cores', '--memory-limit=none', '--controller-build=sources', `--external-secrets=${n}`, '--namespaces=2', '--remote-keys=5', '--ready-timeout=90', `--out=${out}`]);
    assert.equal(code, 0, `bench failed:\n${output.slice(-4000)}`);
    assert.match(output, /Tessera restart bench: N=20 .*refreshInterval=1h .*; control plane \(kube-apiserver, etcd, kube-controller-manager\) on CPU \d+, the controller, the bench and moto on CPU [\d,]+; controller without a memory limit\)$/m);
    // The peers are shared with the rest of the suite: each has its CPUs back, as before the run.
    assert.deepEqual(peers.map(({ name, pid }) => `${name} ${pid === undefined ? 'no pid recorded' : allowedCpus(pid)}`), cpusBefore);

    // Each row of the table: the label, then a number (a count may be followed by its breakdown).
    const rows = [
      'restart: old process exit after SIGTERM (s)',
      'restart: spawn → /readyz OK (s)',
      'restart: spawn → queues drained (s)',
      'restart: reconciles by the new process',
      'restart: provider calls',
      'restart: busiest provider second',
      'restart: Secrets changed (of N)',
      'restart: ExternalSecrets changed (of N)',
      'restart: controller writes by method',
      'restart: apiserver writes (all clients)',
      'restart: new ES create → Ready (ms)',
      'restart: new process CPU (s) until drained',
    ];
    for (const label of rows) {
      const m = new RegExp(`^${escapeRegExp(label)} +(\\S+)`, 'm').exec(output);
      assert.ok(m, `row "${label}" printed:\n${output.slice(-3000)}`);
      assert.ok(Number.isFinite(Number(m[1])) && Number(m[1]) >= 0, `row "${label}" is a number: ${m[1]}`);
    }
    // No floor and no refresh cycle in this scenario: they belong to the scale scenario.
    assert.doesNotMatch(output, /^apiserver floor/m);

    const r = JSON.parse(readFileSync(out, 'utf8')) as { scenario: string; params: { memoryLimit: string; splitCores?: { controlPlane: string; clients: string } }; controller: Result['controller']; restart: Record<string, unknown> & {
      provider: { byCall: Record<string, number>; total: number };
      changed: { secrets: number; externalSecrets: number };
      reconciles: Record<string, number>;
    } };
    assert.equal(r.scenario, 'restart');
    // Without a limit: no old-space cap, the old space grows by a fixed factor instead.
    assert.equal(r.params.memoryLimit, 'none');
    assert.equal(r.controller.heap.memoryLimitMb, undefined, JSON.stringify(r.controller.heap));
    assert.ok(r.controller.heap.heapFlags.some((f) => f.startsWith('--heap-growing-percent=')) && !r.controller.heap.heapFlags.some((f) => f.startsWith('--max-old-space-size')), JSON.stringify(r.controller.heap));
    const split = r.params.splitCores;
    assert.ok(split && /^\d+$/.test(split.controlPlane) && /^\d+(,\d+)*$/.test(split.clients) && !split.clients.split(',').includes(split.controlPlane), JSON.stringify(split));
    for (const k of ['stopSeconds', 'readySeconds', 'drainedSeconds', 'newExternalSecretReadyMs', 'otherExternalSecrets']) {
      assert.equal(typeof r.restart[k], 'number', `${k}: ${JSON.stringify(r.restart[k])}`);
    }
    assert.ok((r.restart.readySeconds as number) > 0 && (r.restart.drainedSeconds as number) >= (r.restart.readySeconds as number), JSON.stringify(r.restart));
    // The counts are of this run's objects: at most the N synced ones changed.
    assert.ok(r.restart.changed.secrets >= 0 && r.restart.changed.secrets <= n, JSON.stringify(r.restart.changed));
    assert.ok(r.restart.changed.externalSecrets >= 0 && r.restart.changed.externalSecrets <= n, JSON.stringify(r.restart.changed));
    assert.equal(r.restart.provider.total, Object.values(r.restart.provider.byCall).reduce((a, b) => a + b, 0));
    // The new process reconciled at least the ExternalSecret created after the restart.
    assert.ok(Object.entries(r.restart.reconciles).some(([k, v]) => k.startsWith('externalsecret ') && v >= 1), JSON.stringify(r.restart.reconciles));
  });

  it('kills the leader of two controllers over 20 synced ExternalSecrets and prints the failover figures as numbers', { timeout: 180_000 }, async () => {
    const n = 20;
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'tessera-bench-')), 'failover.json');
    // Short lease timings keep the test short; the bench's defaults are the controller's.
    const { code, output } = await runBench([
      '--scenario=failover', '--controller-build=sources', `--external-secrets=${n}`, '--namespaces=2', '--remote-keys=5', '--ready-timeout=90', `--out=${out}`,
      '--controller-arg=--lease-duration=4s', '--controller-arg=--renew-deadline=3s', '--controller-arg=--retry-period=1s',
    ]);
    assert.equal(code, 0, `bench failed:\n${output.slice(-4000)}`);
    assert.match(output, /Tessera failover bench: N=20 .*refreshInterval=1h/);
    assert.match(output, /^failover: signal to the leader +SIGKILL/m);
    const rows = [
      'failover: standby spawn → /readyz OK (s)',
      'failover: signal → old leader exit (s)',
      'failover: signal → standby leads (s)',
      'failover: signal → queues drained (s)',
      'failover: reconciles by the new leader',
      'failover: provider calls',
      'failover: busiest provider second',
      'failover: Secrets changed (of N)',
      'failover: ExternalSecrets changed (of N)',
      'failover: new leader writes by method',
      'failover: apiserver writes (all clients)',
      'failover: new ES create → Ready (ms)',
      'failover: takeover → new ES Ready (ms)',
      'failover: new leader CPU (s) until drained',
    ];
    for (const label of rows) {
      const m = new RegExp(`^${escapeRegExp(label)} +(\\S+)`, 'm').exec(output);
      assert.ok(m, `row "${label}" printed:\n${output.slice(-3000)}`);
      assert.ok(Number.isFinite(Number(m[1])) && Number(m[1]) >= 0, `row "${label}" is a number: ${m[1]}`);
    }
    assert.doesNotMatch(output, /^apiserver floor/m);

    const r = JSON.parse(readFileSync(out, 'utf8')) as { scenario: string; failover: {
      takeoverSeconds: number;
      drainedSeconds: number;
      leaderExitSeconds: number;
      newExternalSecretReadyMs: number;
      changed: { secrets: number; externalSecrets: number };
      reconciles: Record<string, number>;
    } };
    assert.equal(r.scenario, 'failover');
    const f = r.failover;
    // A SIGKILLed leader releases nothing: the standby waits for the 4 s lease to expire (judged
    // from when it last saw the Lease change, so a little less is possible, never much less).
    assert.ok(f.takeoverSeconds >= 2 && f.takeoverSeconds < 60, JSON.stringify(f));
    assert.ok(f.leaderExitSeconds < f.takeoverSeconds && f.drainedSeconds >= f.takeoverSeconds, JSON.stringify(f));
    assert.ok(f.newExternalSecretReadyMs >= f.takeoverSeconds * 1000 - 1000, JSON.stringify(f));
    assert.ok(f.changed.secrets >= 0 && f.changed.secrets <= n && f.changed.externalSecrets >= 0 && f.changed.externalSecrets <= n, JSON.stringify(f.changed));
    // The new leader reconciled at least the ExternalSecret created after the kill.
    assert.ok(Object.entries(f.reconciles).some(([k, v]) => k.startsWith('externalsecret ') && v >= 1), JSON.stringify(f.reconciles));
  });
});
