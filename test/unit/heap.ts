// The heap a test's objects really hold: measured after full collections, so that garbage not yet
// collected is not counted. Node exposes gc() only with --expose-gc; the flag set at run time
// makes it available to a fresh context.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Bytes of heap in use after two full collections (the second frees what the first finalized). */
export function liveHeap(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
