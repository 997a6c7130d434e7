// --memory-limit: the benchmarked controller under a cgroup memory limit, as a pod runs it.
//
// The Deployment we ship (deploy/default, and the chart and the OLM bundle with it) gives the
// controller a memory limit of 512Mi, and `tessera run` sizes V8's heap from the limit it finds
// (src/cli/heap.ts): half of it old space, and V8's own growing factor, which is smaller for a
// smaller heap limit. A process without a limit sizes its heap differently (a fixed growing
// factor, no old-space cap), so by default the bench puts each controller it starts into a memory
// cgroup of its own with the Deployment's limit, and the process finds it as it would in a pod
// (process.constrainedMemory()). `--memory-limit none` runs it without one.
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { parseMemoryLimitMb } from '../../src/compute/index.ts';

/** "512Mi", "1Gi", "500M", "1000000" → bytes (whole MiB, as the template budget reads them). Throws on anything else. */
export function parseMemoryQuantity(text: string): number {
  let mb: number;
  try {
    mb = parseMemoryLimitMb(text);
  } catch (e) {
    throw new RangeError(`--memory-limit: ${(e as Error).message} (or "none", or "deployment")`);
  }
  if (mb < 64) throw new RangeError(`--memory-limit: ${text} is below 64Mi, too little for the controller to start`);
  return mb * 2 ** 20;
}

/** The controller container's memory limit in a Deployment manifest (the one named "tessera", else the first). */
export function deploymentMemoryLimit(manifest: string): string {
  const d = parse(manifest) as { spec?: { template?: { spec?: { containers?: Array<{ name?: string; resources?: { limits?: { memory?: string | number } } }> } } } };
  const containers = d.spec?.template?.spec?.containers ?? [];
  const c = containers.find((x) => x.name === 'tessera') ?? containers[0];
  const limit = c?.resources?.limits?.memory;
  if (limit === undefined) throw new Error('the Deployment sets no memory limit for its controller container (spec.template.spec.containers[].resources.limits.memory)');
  return String(limit);
}

/** What --memory-limit asks for: undefined for "none"; "deployment" is the shipped Deployment's limit. */
export function memoryLimitOption(value: string, deploymentFile: string): { text: string; bytes: number } | undefined {
  if (value === 'none') return undefined;
  const text = value === 'deployment' ? deploymentMemoryLimit(readFileSync(deploymentFile, 'utf8')) : value;
  return { text, bytes: parseMemoryQuantity(text) };
}

/** Where this process's memory cgroup is: cgroup v1's memory hierarchy, or the v2 hierarchy. */
export function ownMemoryCgroup(procSelfCgroup: string, procMounts: string): { version: 1 | 2; dir: string } {
  const mounts = procMounts.split('\n').map((l) => l.split(' ')).filter((f) => f.length >= 4);
  for (const line of procSelfCgroup.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const [, controllers, rel] = m;
    if (controllers!.split(',').includes('memory')) {
      const mount = mounts.find((f) => f[2] === 'cgroup' && f[3]!.split(',').includes('memory'));
      if (mount) return { version: 1, dir: path.join(mount[1]!, rel!) };
    }
  }
  const v2 = /^0::(.*)$/m.exec(procSelfCgroup);
  const mount = mounts.find((f) => f[2] === 'cgroup2');
  if (v2 && mount) return { version: 2, dir: path.join(mount[1]!, v2[1]!) };
  throw new Error('no memory cgroup found for this process (/proc/self/cgroup, /proc/mounts); run with --memory-limit none');
}

export interface MemoryCgroup {
  /** The file a process writes its pid into to join. */
  procs: string;
  /** Removes the (then empty) cgroup; once its processes have exited. Idempotent. */
  remove(): void;
}

/** A child memory cgroup of this process's own, named `name`, limited to `bytes`. */
export function makeMemoryCgroup(name: string, bytes: number): MemoryCgroup {
  const own = ownMemoryCgroup(readFileSync('/proc/self/cgroup', 'utf8'), readFileSync('/proc/mounts', 'utf8'));
  const dir = path.join(own.dir, name);
  const limitFile = path.join(dir, own.version === 1 ? 'memory.limit_in_bytes' : 'memory.max');
  try {
    mkdirSync(dir);
    writeFileSync(limitFile, String(bytes));
  } catch (e) {
    const hint = own.version === 2 ? ' (cgroup v2: the memory controller must be in the parent\'s cgroup.subtree_control)' : '';
    throw new Error(`cannot make the controller's memory cgroup ${dir}${hint}: ${(e as Error).message}; run as root, or with --memory-limit none`);
  }
  let removed = false;
  return {
    procs: path.join(dir, 'cgroup.procs'),
    remove: () => {
      if (removed) return;
      removed = true;
      try {
        rmdirSync(dir);
      } catch {
        // A process is still in it (a controller killed as the bench exits): the empty
        // directory is left behind, named after the bench's pid; rmdir removes it.
      }
    },
  };
}
