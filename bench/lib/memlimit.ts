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

/** One mount of /proc/self/mountinfo: the mounted subtree's root, where it is mounted, its type and super options. */
function mounts(mountinfo: string): Array<{ root: string; at: string; type: string; options: string[] }> {
  const out = [];
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const f = left.split(' ');
    const [type, , superOptions = ''] = right.split(' ');
    out.push({ root: f[3]!, at: f[4]!, type: type!, options: superOptions.split(',') });
  }
  return out;
}

/**
 * Where this process's memory cgroup is: in cgroup v1's memory hierarchy, else in the v2 one. A
 * mount may show only a subtree of its hierarchy (a container's own cgroup mounted as the root):
 * the path /proc/self/cgroup gives is then read relative to the mounted root.
 */
export function ownMemoryCgroup(procSelfCgroup: string, mountinfo: string): { version: 1 | 2; dir: string } {
  const all = mounts(mountinfo);
  // The first mount of the hierarchy whose subtree holds the cgroup (a hierarchy may be mounted
  // more than once, each time a different subtree).
  const find = (isHierarchy: (m: { type: string; options: string[] }) => boolean, cgroupPath: string) => {
    for (const m of all) {
      if (!isHierarchy(m)) continue;
      const rel = path.posix.relative(m.root, cgroupPath);
      if (rel !== '..' && !rel.startsWith('../')) return path.posix.join(m.at, rel);
    }
    return undefined;
  };
  for (const line of procSelfCgroup.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m || !m[1]!.split(',').includes('memory')) continue;
    const dir = find((x) => x.type === 'cgroup' && x.options.includes('memory'), m[2]!);
    if (dir) return { version: 1, dir };
  }
  const v2 = /^0::(.*)$/m.exec(procSelfCgroup);
  const dir = v2 && find((x) => x.type === 'cgroup2', v2[1]!);
  if (dir) return { version: 2, dir };
  throw new Error('no memory cgroup found for this process (/proc/self/cgroup, /proc/self/mountinfo); run with --memory-limit none');
}

export interface MemoryCgroup {
  /** The file a process writes its pid into to join. */
  procs: string;
  /** Removes the (then empty) cgroup; once its processes have exited. Idempotent. */
  remove(): void;
}

/** A child memory cgroup of this process's own, named `name`, limited to `bytes`. */
export function makeMemoryCgroup(name: string, bytes: number): MemoryCgroup {
  const own = ownMemoryCgroup(readFileSync('/proc/self/cgroup', 'utf8'), readFileSync('/proc/self/mountinfo', 'utf8'));
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
