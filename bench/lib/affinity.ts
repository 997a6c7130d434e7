// --split-cores: the control plane on one core, its clients on the others, for the timed phases.
//
// On a machine of a few cores the controller, the apiserver and etcd take turns on the same
// cores, so the all-Ready time also counts the controller's own CPU as time the apiserver could
// not run. In a cluster they run on different nodes. With the cores split, the control plane
// (etcd, kube-apiserver, kube-controller-manager) has the first core to itself in the initial
// sync and in the floors alike, and every client (the controller, this bench, moto as the
// provider) runs on the rest: the ratio then says whether the controller keeps the apiserver as
// busy as the floor's plain client does.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The CPUs a process may run on, as /proc/<pid>/status lists them ("0-1", "0,2"). */
export function allowedCpus(pid: number): string {
  const m = /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`/proc/${pid}/status has no Cpus_allowed_list`);
  return m[1]!;
}

/** The CPU numbers of a list such as "0-2,5". */
export function parseCpuList(list: string): number[] {
  const out: number[] = [];
  for (const part of list.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`not a CPU list: ${JSON.stringify(list)}`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    for (let c = lo; c <= hi; c++) out.push(c);
  }
  return out;
}

/** The first allowed CPU for the control plane, the others for its clients; needs two at least. */
export function splitCores(cpus: number[]): { controlPlane: string; clients: string } {
  if (cpus.length < 2) throw new Error(`--split-cores needs two CPUs at least; this process may use ${cpus.length} (${cpus.join(',')})`);
  return { controlPlane: String(cpus[0]), clients: cpus.slice(1).join(',') };
}

/** Every thread of `pid` (and the threads it starts later) onto `cpus`, with taskset (util-linux). */
export function pin(pid: number, cpus: string): void {
  // taskset only makes one system call per thread; the timeout bounds a hung one all the same.
  const r = spawnSync('taskset', ['--all-tasks', '--cpu-list', '--pid', cpus, String(pid)], { encoding: 'utf8', timeout: 10_000 });
  if (r.error) throw new Error(`--split-cores runs taskset (util-linux): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`taskset --cpu-list ${cpus} for pid ${pid} failed (exit ${r.status}): ${r.stderr.trim()}`);
}

export interface CoreSplit {
  controlPlane: string;
  clients: string;
  /** Gives every pinned process back the CPUs it had; idempotent. */
  restore(): void;
}

/**
 * Pins the control plane's processes to one core and the clients' (this process among them, and
 * so every process it spawns from now on) to the others. The previous CPU sets are given back by
 * restore(), and at the latest when this process exits, so that shared peers are never left pinned.
 */
export function splitControlPlane(controlPlane: Record<string, number | undefined>, clients: Record<string, number | undefined>): CoreSplit {
  const split = splitCores(parseCpuList(allowedCpus(process.pid)));
  const before = new Map<number, string>();
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    process.off('exit', restore);
    for (const [pid, cpus] of before) {
      try {
        pin(pid, cpus);
      } catch {
        /* the process has ended */
      }
    }
  };
  process.once('exit', restore);
  const apply = (pids: Record<string, number | undefined>, cpus: string) => {
    for (const [name, pid] of Object.entries(pids)) {
      if (pid === undefined) throw new Error(`--split-cores: no pid recorded for ${name}`);
      before.set(pid, allowedCpus(pid));
      pin(pid, cpus);
    }
  };
  try {
    apply(controlPlane, split.controlPlane);
    apply(clients, split.clients);
  } catch (e) {
    restore();
    throw e;
  }
  return { ...split, restore };
}
