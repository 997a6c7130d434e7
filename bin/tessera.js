#!/usr/bin/env node
// Entry point of the `tessera` command. In a checkout, Node 24 runs the TypeScript sources
// directly. An installed package (and the container image) ships only the compiled dist/, because
// Node refuses to strip types under node_modules (ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING);
// the sources' presence decides, so a checkout never runs a stale build.
import { existsSync } from 'node:fs';

const fromSources = existsSync(new URL('../src/cli/main.ts', import.meta.url));
const cliModule = (name) => (fromSources ? new URL(`../src/cli/${name}.ts`, import.meta.url).href : `../dist/cli/${name}.js`);

// `tessera run` sizes V8's heap from the pod's memory limit unless NODE_OPTIONS or node's own
// flags already do, and caps glibc's malloc arenas unless MALLOC_ARENA_MAX is set (src/cli/heap.ts
// says why): both are read only when the process starts, so the process replaces itself once (same
// pid) with the flags and the variable, before loading anything else.
if (process.argv[2] === 'run' && typeof process.execve === 'function') {
  /** @type {typeof import('../src/cli/heap.ts')} */
  const { heapFlags, memoryEnv, processHeapContext } = await import(cliModule('heap'));
  const flags = heapFlags(processHeapContext());
  const env = memoryEnv(process.env);
  if (flags.length > 0 || Object.keys(env).length > 0) process.execve(process.execPath, [process.execPath, ...flags, ...process.execArgv, ...process.argv.slice(1)], { ...process.env, ...env });
}

/** @type {typeof import('../src/cli/main.ts')} */
const { runMain } = await import(cliModule('main'));

runMain();
