#!/usr/bin/env node
// Entry point of the `tessera` command: Node 24 runs the TypeScript sources directly.
import { runMain } from '../src/cli/main.ts';

runMain();
