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
