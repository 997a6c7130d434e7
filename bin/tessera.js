#!/usr/bin/env node
// Entry point of the `tessera` command. In a checkout, Node 24 runs the TypeScript sources
// directly. An installed package (and the container image) ships only the compiled dist/, because
// Node refuses to strip types under node_modules (ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING);
// the sources' presence decides, so a checkout never runs a stale build.
import { existsSync } from 'node:fs';

const sources = new URL('../src/cli/main.ts', import.meta.url);
/** @type {typeof import('../src/cli/main.ts')} */
const { runMain } = await import(existsSync(sources) ? sources.href : '../dist/cli/main.js');

runMain();
