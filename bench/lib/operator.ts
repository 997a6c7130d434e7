// Starts the controller for a benchmark as users run it: CRDs and the RBAC we ship installed, a
// separate `tessera run` process under its own ServiceAccount (tessera-system/tessera), with
// metrics sampling and NODE_OPTIONS on top of test/peers/operator.ts.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, createWriteStream, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import type { KubeClient } from '../../src/kube/client.ts';
import { repoRoot, stateDir, type PeersEnv } from '../../test/peers/index.ts';
import { installTessera, operatorEnv, operatorKubeconfig, waitFor } from '../../test/peers/operator.ts';
import { makeMemoryCgroup } from './memlimit.ts';
import type { heapReport } from '../../src/cli/heap.ts';

/** Polls until `fn` returns a truthy value (the launcher's waitFor, under the bench's name). */
export const poll = waitFor;

export { installTessera };

export interface Controller {
  child: ChildProcess;
  pid: number;
  logFile: string;
  metricsUrl: string;
  healthUrl: string;
  /** Milliseconds (Date.now()) when the process was spawned. */
  spawnedAt: number;
  /** What the controller's start-up log line "heap" said: its V8 heap limit, the memory limit it found, the flags it added. */
  heap: Partial<ReturnType<typeof heapReport>> | undefined;
  metrics(names?: string[]): Promise<string>;
  stop(): Promise<number | null>;
}

/**
 * Where the benchmarked controller runs from. "dist": the compiled JavaScript, as the container
 * image and an installed package run it. "sources": the checkout's TypeScript through Node's type
 * stripper, which alone adds about 29 MB to the RSS (docs/performance.md, "Memory").
 */
export type ControllerBuild = 'dist' | 'sources';

/**
 * The `tessera` entry point to spawn. For "dist" it compiles src/ into a staging directory laid
 * out as the installed package (bin/, dist/, package.json; node_modules linked to the checkout's),
 * so that bin/tessera.js finds no sources there and loads dist/, as in the image. Compiled once per
 * bench run, never into the checkout's own dist/ (which `npm run build` and the image own).
 */
export function controllerEntry(build: ControllerBuild): string {
  if (build === 'sources') return path.join(repoRoot, 'bin/tessera.js');
  const stage = path.join(stateDir, `bench-app-${process.pid}`);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(path.join(stage, 'bin'), { recursive: true });
  const tsc = spawnSync(process.execPath, [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', path.join(repoRoot, 'tsconfig.build.json'), '--outDir', path.join(stage, 'dist')], { encoding: 'utf8' });
  if (tsc.status !== 0) throw new Error(`compiling the controller for the bench failed (tsc exit ${tsc.status}):\n${tsc.stdout}${tsc.stderr}`);
  copyFileSync(path.join(repoRoot, 'bin/tessera.js'), path.join(stage, 'bin/tessera.js'));
  copyFileSync(path.join(repoRoot, 'package.json'), path.join(stage, 'package.json'));
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(stage, 'node_modules'));
  process.once('exit', () => rmSync(stage, { recursive: true, force: true }));
  return path.join(stage, 'bin/tessera.js');
}

let spawned = 0;

/** How the bench starts one `tessera run`. */
export interface ControllerStart {
  /** Flags after `run` (beyond the kubeconfig, addresses and log level the bench sets). */
  args: string[];
  /** The controller's NODE_OPTIONS, as a pod's memory limit would set them; none when empty. */
  nodeOptions?: string | undefined;
  /** The entry point (controllerEntry): the checkout's sources when absent. */
  entry?: string | undefined;
  /** A memory cgroup of its own with this limit; none when absent. */
  memoryLimitBytes?: number | undefined;
}

/**
 * Spawns `tessera run` from `entry` (info-level logs to a file) and waits for its "started" line.
 * With `memoryLimitBytes`, the process runs in a memory cgroup of its own with that limit (a shell
 * joins it, then execs node: the controller finds the limit from its first instruction, as in a pod).
 */
export async function startController(admin: KubeClient, env: PeersEnv, o: ControllerStart): Promise<Controller> {
  const { args, nodeOptions = '', entry = controllerEntry('sources'), memoryLimitBytes } = o;
  const kubeconfig = await operatorKubeconfig(admin, env);
  mkdirSync(path.join(stateDir, 'logs'), { recursive: true });
  const logFile = path.join(stateDir, 'logs', `tessera-bench-${process.pid}-${Date.now()}.log`);
  const out = createWriteStream(logFile);
  const cgroup = memoryLimitBytes === undefined ? undefined : makeMemoryCgroup(`tessera-bench-${process.pid}-${++spawned}`, memoryLimitBytes);
  const command = [process.execPath, entry, 'run', `--kubeconfig=${kubeconfig}`, '--metrics-addr=127.0.0.1:0', '--health-addr=127.0.0.1:0', '--log-level=info', ...args];
  const spawnedAt = Date.now();
  const child = spawn(
    cgroup ? '/bin/sh' : command[0]!,
    cgroup ? ['-c', 'echo $$ > "$0" && exec "$@"', cgroup.procs, ...command] : command.slice(1),
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      // NODE_OPTIONS as a pod's memory limit would set them.
      env: operatorEnv(env, nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
    },
  );
  let started: { metrics?: string; health?: string } | undefined;
  let heap: Controller['heap'];
  let tail: string[] = [];
  let partial = '';
  const collect = (d: string) => {
    out.write(d);
    if (started) return;
    const lines = (partial + d).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) {
      tail = [...tail.slice(-20), l];
      try {
        const j = JSON.parse(l) as { msg?: string; health?: string; metrics?: string } & NonNullable<Controller['heap']>;
        if (j.msg === 'started') started = j;
        if (j.msg === 'heap') heap = { heapLimitMb: j.heapLimitMb, memoryLimitMb: j.memoryLimitMb, heapFlags: j.heapFlags };
      } catch {
        /* not JSON */
      }
    }
  };
  child.stdout!.setEncoding('utf8').on('data', collect);
  child.stderr!.setEncoding('utf8').on('data', collect);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  void exited.then(() => cgroup?.remove());
  // A process that could not be spawned fires 'error', and may fire no 'exit': its cgroup goes too.
  let spawnError: Error | undefined;
  child.once('error', (e) => {
    spawnError = e;
    cgroup?.remove();
  });
  // A bench that fails or is interrupted must not leave its controller running against the
  // (possibly shared) cluster.
  const orphanGuard = () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  process.once('exit', orphanGuard);
  void exited.then(() => process.off('exit', orphanGuard));
  const s = await poll('tessera run to start', () => {
    if (spawnError) throw new Error(`tessera could not be started: ${spawnError.message}`);
    if (child.exitCode !== null) throw new Error(`tessera exited with ${child.exitCode}:\n${tail.join('\n')}`);
    return started;
  }, 60_000, 50);
  return {
    child,
    pid: child.pid!,
    logFile,
    spawnedAt,
    heap,
    metricsUrl: `http://${s.metrics}/metrics`,
    healthUrl: `http://${s.health}`,
    metrics: async (names = []) => {
      const q = names.map((n) => `name=${encodeURIComponent(n)}`).join('&');
      return (await fetch(`http://${s.metrics}/metrics${q ? '?' + q : ''}`)).text();
    },
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      const code = await exited;
      out.end();
      return code;
    },
  };
}
