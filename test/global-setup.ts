// Global setup of `npm test`: builds (once, cached) and starts the real peers before any test
// file runs, and stops them afterwards if this run started them. Each integration file also
// calls ensurePeers(), so a single file can be run on its own.
import { peersDown, peersStatus, peersUp } from './peers/index.ts';

let startedHere = false;

export async function globalSetup(): Promise<void> {
  const before = await peersStatus();
  startedHere = before.every((p) => !p.ok);
  const t0 = Date.now();
  await peersUp();
  process.stderr.write(`[peers] all peers ready after ${((Date.now() - t0) / 1000).toFixed(1)} s (build included when cold)\n`);
}

export async function globalTeardown(): Promise<void> {
  if (startedHere && process.env.TESSERA_KEEP_PEERS !== '1') await peersDown();
}
