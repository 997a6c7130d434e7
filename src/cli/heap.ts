// Why this file: the controller sizes V8's heap itself, so that a pod needs no NODE_OPTIONS.
//
// What Node 24 does on its own (checked on 24.21 under a cgroup v1 limit; docs/performance.md,
// "Memory"): it hands V8 the cgroup's limit (libuv's uv_get_constrained_memory, v1 or v2) as
// the machine's memory, and V8 makes half of it old space, but never less than 256 MiB (a pod
// limited to 256Mi gets an old space as large as the pod), and lets each young-generation
// semi-space grow to 16–64 MiB once the heap limit is large (64 MiB on a 24 GiB machine without
// a limit). The controller allocates in bursts (lists, watch events, JSON), so the young
// generation grew to 128 MiB of RSS at 2,000 ExternalSecrets while the live old space was 45 MiB.
// `--max-old-space-size-percentage` (Node 24) does read the cgroup, but without a limit it is
// a share of the whole machine, and it cannot cap the young generation.
//
// So `tessera run` (bin/tessera.js) re-executes itself once, in place (process.execve: same pid,
// no second process), with the flags below, unless the operator chose any of them already: a
// heap flag in NODE_OPTIONS or on node's command line always wins. It also re-executes to cap
// glibc's malloc arenas (MALLOC_ARENA_MAX) unless that is set. Pure functions, unit-tested.
import { totalmem } from 'node:os';

/** The old space's share of a cgroup memory limit: 512Mi → 256 MiB old space, the rest for
 * the template workers' heaps (2 × 64Mi by default), the young generation, code and buffers. */
export const OLD_SPACE_SHARE_OF_MEMORY_LIMIT = 0.5;

/** The cap of one young-generation semi-space, in MiB (docs/performance.md, "Memory", has the
 * runs that chose it: RSS against controller CPU). */
export const MAX_SEMI_SPACE_MB = 4;

/** Without a memory limit: the old space may grow to 1.5 times what the last full collection kept,
 * instead of V8's up to four times with a heap limit sized to the machine (docs/performance.md,
 * "Memory", second round: at 2,000 ExternalSecrets, 1.5 cost no CPU the runs could tell from 2). */
export const HEAP_GROWING_PERCENT_WITHOUT_LIMIT = 50;

/** glibc's malloc arenas outside the JS heap (TLS buffers, HTTP parsers, the thread pool's
 * work). By default glibc may make up to 8 per core, one per thread that meets contention, and
 * each keeps its freed memory; with two the peak RSS at 2,000 ExternalSecrets was 6 MB lower. */
export const MALLOC_ARENA_MAX = 2;

const MiB = 1024 * 1024;

/** This process's heap context. */
export function processHeapContext(): HeapContext {
  return { constrainedMemory: process.constrainedMemory(), totalMemory: totalmem(), execArgv: process.execArgv, nodeOptions: process.env['NODE_OPTIONS'] };
}

/** The process's cgroup memory limit in bytes, or undefined when none is set below the machine's
 * memory (libuv answers 0 without cgroups, and a huge number for a limit of "max"). */
export function memoryLimitBytes(constrainedMemory: number, totalMemory: number): number | undefined {
  return constrainedMemory > 0 && constrainedMemory < totalMemory ? constrainedMemory : undefined;
}

/** The V8 flag names in node options, with V8's underscores read as dashes (V8 accepts both). */
function heapFlagNames(args: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (const arg of args) {
    if (!arg.startsWith('--')) continue;
    names.add(arg.slice(2).split('=')[0]!.replaceAll('_', '-'));
  }
  return names;
}

export interface HeapContext {
  /** process.constrainedMemory(): the cgroup's limit. */
  constrainedMemory: number;
  /** os.totalmem(). */
  totalMemory: number;
  /** process.execArgv: node's own command-line flags. */
  execArgv: readonly string[];
  /** process.env.NODE_OPTIONS. */
  nodeOptions: string | undefined;
}

/**
 * The node flags `tessera run` adds to size its heap: the old space from the cgroup limit (when
 * there is one, else a growing factor), and the semi-space cap, each only when the operator set
 * neither it nor a flag that decides it. Empty when there is nothing to add, which is also what the re-executed
 * process finds (its execArgv carries the flags), so it re-executes at most once.
 */
export function heapFlags(ctx: HeapContext): string[] {
  const given = heapFlagNames([...ctx.execArgv, ...(ctx.nodeOptions ?? '').split(/\s+/)]);
  const flags: string[] = [];
  const limit = memoryLimitBytes(ctx.constrainedMemory, ctx.totalMemory);
  const oldSpaceGiven = ['max-old-space-size', 'max-old-space-size-percentage', 'max-heap-size'].some((f) => given.has(f));
  if (limit !== undefined && !oldSpaceGiven) {
    flags.push(`--max-old-space-size=${Math.max(1, Math.floor((limit / MiB) * OLD_SPACE_SHARE_OF_MEMORY_LIMIT))}`);
  }
  // Under a limit, V8's own growing factor shrinks with the heap limit (down to 1.3); the flag
  // would replace it, so it is only for a process with nothing to size from.
  if (limit === undefined && !oldSpaceGiven && !given.has('heap-growing-percent')) flags.push(`--heap-growing-percent=${HEAP_GROWING_PERCENT_WITHOUT_LIMIT}`);
  // --max-heap-size alone makes V8 derive the young generation from it: leave that to V8.
  if (!given.has('max-semi-space-size') && !given.has('max-heap-size')) flags.push(`--max-semi-space-size=${MAX_SEMI_SPACE_MB}`);
  return flags;
}

/** The environment `tessera run` adds when it re-executes itself: MALLOC_ARENA_MAX (glibc reads
 * it only at start), unless it is set already. */
export function memoryEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  return env['MALLOC_ARENA_MAX'] === undefined ? { MALLOC_ARENA_MAX: String(MALLOC_ARENA_MAX) } : {};
}

/** The old space (MiB) `tessera run` gives itself under a memory limit of `limitMiB`, no flags given. */
export function defaultOldSpaceMb(limitMiB: number): number {
  const flag = heapFlags({ constrainedMemory: limitMiB * MiB, totalMemory: Number.MAX_SAFE_INTEGER, execArgv: [], nodeOptions: undefined })[0]!;
  return Number(/^--max-old-space-size=(\d+)$/.exec(flag)![1]);
}

/** What the process runs with, for the start-up log: V8's heap limit, the cgroup's, and the flags. */
export function heapReport(ctx: HeapContext, heapSizeLimit: number): { heapLimitMb: number; memoryLimitMb: number | undefined; heapFlags: string[] } {
  const limit = memoryLimitBytes(ctx.constrainedMemory, ctx.totalMemory);
  const isHeapFlag = (a: string) => /^--(max[-_](old[-_]space[-_]size|semi[-_]space[-_]size|heap[-_]size)|heap[-_]growing[-_]percent)/.test(a);
  return {
    heapLimitMb: Math.round(heapSizeLimit / MiB),
    memoryLimitMb: limit === undefined ? undefined : Math.round(limit / MiB),
    heapFlags: [...ctx.execArgv, ...(ctx.nodeOptions ?? '').split(/\s+/)].filter(isHeapFlag),
  };
}
