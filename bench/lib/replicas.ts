// `npm run bench -- --replicas R`: the initial sync by R controllers sharing the ExternalSecrets
// through `--shards` (docs/adr/0008-sharding.md), as a deployment with R replicas runs them.
// Reports the all-Ready time from the first spawn and, per replica, peak RSS, CPU seconds, the
// shards it holds and the ExternalSecrets it caches, so that one can see what divides (cache
// memory, reconcile CPU) and what does not (watch traffic, the process's base).
import type { KubeClient } from '../../src/kube/client.ts';
import type { PeersEnv } from '../../test/peers/index.ts';
import { poll, startController, type Controller, type ControllerStart } from './operator.ts';
import { procStat } from './proc.ts';
import { parseProm, sumBy, total } from './prom.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface ReplicaFigures {
  pid: number;
  peakRssMb: number;
  cpuSeconds: number;
  shardsHeld: number;
  cachedExternalSecrets: number;
  reconciles: number;
  logFile: string;
}

export interface ReplicasResult {
  replicas: number;
  shards: number;
  allReadySeconds: number;
  perReplica: ReplicaFigures[];
  controllerArgs: string[];
}

export interface ReplicasOptions {
  replicas: number;
  shards: number;
  /** How the bench starts its controller (flags, entry point, memory limit); each replica adds the sharding flags. */
  controller: ControllerStart;
  /** A Lease name prefix of this run, so that runs and other processes do not share shards. */
  leaseId: string;
  readyTimeoutMs: number;
  /** True once every ExternalSecret of the run is Ready (the bench's watcher). */
  allReady: () => boolean;
  log: (m: string) => void;
}

const metric = async (c: Controller, name: string, labels: (l: Record<string, string>) => boolean = () => true) =>
  total(sumBy(parseProm(await c.metrics([name])), name, [], labels));

/** Starts the replicas together, waits for all Ready, reports, and stops them. */
export async function measureReplicas(admin: KubeClient, env: PeersEnv, o: ReplicasOptions): Promise<ReplicasResult> {
  const args = [
    ...o.controller.args,
    `--shards=${o.shards}`,
    `--leader-election-id=${o.leaseId}`,
    '--leader-election-namespace=tessera-system',
  ];
  const t0 = Date.now();
  const ctls = await Promise.all(Array.from({ length: o.replicas }, () => startController(admin, env, { ...o.controller, args })));
  const peak = new Map<number, { hwmMb: number; cpuSeconds: number }>();
  const sample = () => {
    for (const c of ctls) {
      const p = procStat(c.pid);
      if (p) peak.set(c.pid, { hwmMb: Math.max(p.hwmMb, peak.get(c.pid)?.hwmMb ?? 0), cpuSeconds: p.cpuSeconds });
    }
  };
  const timer = setInterval(sample, 200);
  try {
    let lastLog = 0;
    await poll(`all ExternalSecrets Ready with ${o.replicas} replicas`, () => {
      for (const c of ctls) if (c.child.exitCode !== null) throw new Error(`controller ${c.pid} exited (${c.child.exitCode}); see ${c.logFile}`);
      if (Date.now() - lastLog > 5000) {
        lastLog = Date.now();
        o.log(`replicas: ${secs(Date.now() - t0)} s; ${ctls.map((c) => `${c.pid} ${Math.round(procStat(c.pid)?.rssMb ?? 0)} MB`).join(', ')}`);
      }
      return o.allReady();
    }, o.readyTimeoutMs, 100);
    const allReadySeconds = secs(Date.now() - t0);
    sample();
    const perReplica: ReplicaFigures[] = [];
    for (const c of ctls) {
      perReplica.push({
        pid: c.pid,
        peakRssMb: Math.round(peak.get(c.pid)?.hwmMb ?? 0),
        cpuSeconds: peak.get(c.pid)?.cpuSeconds ?? 0,
        shardsHeld: await metric(c, 'tessera_shards_held'),
        cachedExternalSecrets: await metric(c, 'tessera_informer_cached_objects', (l) => l.resource === 'externalsecrets.external-secrets.io'),
        reconciles: await metric(c, 'controller_runtime_reconcile_total', (l) => l.controller === 'externalsecret'),
        logFile: c.logFile,
      });
    }
    return { replicas: o.replicas, shards: o.shards, allReadySeconds, perReplica, controllerArgs: args };
  } finally {
    clearInterval(timer);
    await Promise.all(ctls.map((c) => c.stop()));
  }
}

const secs = (ms: number) => Math.round(ms) / 1000;

/** Writes the result as JSON and prints a table: one row per replica. */
export function reportReplicas(r: ReplicasResult, params: Record<string, unknown>, out: string): void {
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), params, ...r }, null, 2) + '\n');
  console.log(`\nTessera replicas bench: ${JSON.stringify(params)}; ${r.replicas} replica(s), --shards=${r.shards}`);
  console.log(`all Ready after the first spawn (s)  ${r.allReadySeconds}`);
  console.log('replica  peak RSS (MB)  CPU (s)  shards  cached ExternalSecrets  reconciles');
  for (const [i, x] of r.perReplica.entries()) {
    console.log(`${String(i + 1).padEnd(8)} ${String(x.peakRssMb).padEnd(14)} ${String(x.cpuSeconds).padEnd(8)} ${String(x.shardsHeld).padEnd(7)} ${String(x.cachedExternalSecrets).padEnd(23)} ${x.reconciles}`);
  }
  console.log(`result: ${out}`);
}
