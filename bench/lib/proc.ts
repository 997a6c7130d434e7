// Process figures from /proc: peak RSS (VmHWM), current RSS and CPU seconds (utime + stime).
import { readFileSync } from 'node:fs';

const TICKS = 100; // USER_HZ on Linux

export interface ProcStat {
  rssMb: number;
  hwmMb: number;
  cpuSeconds: number;
}

export function procStat(pid: number): ProcStat | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = (Number(f[11]) + Number(f[12])) / TICKS; // utime, stime (fields 14, 15)
    return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024, cpuSeconds: cpu };
  } catch {
    return undefined;
  }
}

/** CPU seconds used so far by each named process, and by the whole machine (/proc/stat), at `at` (ms, performance.now()). */
export interface CpuSnapshot {
  at: number;
  byProcess: Record<string, number | undefined>;
  machine: MachineCpu;
}

/** The machine's CPU seconds so far, summed over its `cores`: busy (user, nice, system, irq, softirq), idle (idle, iowait), stolen by the hypervisor. */
export interface MachineCpu {
  cores: number;
  busy: number;
  idle: number;
  steal: number;
}

/** /proc/stat's first line ("cpu  user nice system idle iowait irq softirq steal …", in ticks) as seconds, and its count of "cpuN" lines. */
export function parseMachineCpu(procStatText: string): MachineCpu {
  const line = procStatText.split('\n', 1)[0] ?? '';
  const cores = procStatText.match(/^cpu\d+ /gm)?.length ?? 0;
  const f = line.trim().split(/\s+/);
  if (f[0] !== 'cpu' || f.length < 9) throw new Error(`unexpected /proc/stat line: ${JSON.stringify(line.slice(0, 80))}`);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f.slice(1, 9).map(Number) as [number, number, number, number, number, number, number, number];
  return { cores, busy: (user + nice + system + irq + softirq) / TICKS, idle: (idle + iowait) / TICKS, steal: steal / TICKS };
}

/** Reads the CPU seconds of `pids` (a process that is gone or unknown reads as undefined) and of the machine. */
export function cpuSnapshot(pids: Record<string, number | undefined>): CpuSnapshot {
  const byProcess: Record<string, number | undefined> = {};
  for (const [name, pid] of Object.entries(pids)) byProcess[name] = pid === undefined ? undefined : procStat(pid)?.cpuSeconds;
  return { at: performance.now(), byProcess, machine: parseMachineCpu(readFileSync('/proc/stat', 'utf8')) };
}

/**
 * Where the machine's CPU went between two snapshots, in seconds: each named process, `other`
 * (everything else that ran: the kernel's own threads, other processes), `idle`, `steal`, and
 * `lost`: the part of the cores' time in between that /proc/stat does not account for at all,
 * which is time the whole virtual machine did not run (paused by its host).
 * A process missing from `from` (started in between) counts from zero; one missing from `to`
 * (ended in between) is left out, and its time falls into `other`.
 */
export function cpuBetween(from: CpuSnapshot, to: CpuSnapshot): Record<string, number> {
  const round = (s: number) => Math.round(s * 100) / 100;
  const out: Record<string, number> = {};
  let named = 0;
  for (const [name, end] of Object.entries(to.byProcess)) {
    if (end === undefined) continue;
    const used = end - (from.byProcess[name] ?? 0);
    out[name] = round(used);
    named += used;
  }
  out.other = round(Math.max(0, to.machine.busy - from.machine.busy - named));
  out.idle = round(to.machine.idle - from.machine.idle);
  out.steal = round(to.machine.steal - from.machine.steal);
  const accounted = to.machine.busy - from.machine.busy + (to.machine.idle - from.machine.idle) + (to.machine.steal - from.machine.steal);
  // The counters move in ticks, not all at the same instant: up to 1 % of the cores' time (and
  // at least 50 ms per core) either way is their granularity, not a pause.
  const capacity = ((to.at - from.at) / 1000) * to.machine.cores;
  const lost = capacity - accounted;
  out.lost = lost > Math.max(0.05 * to.machine.cores, 0.01 * capacity) ? round(lost) : 0;
  return out;
}
