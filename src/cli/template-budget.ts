// The template budget flags (--template-timeout, --template-memory-limit), read the same way by
// `tessera run` and `tessera render`.
import { parseDurationMs } from '../api/duration.ts';
import { parseMemoryLimitMb } from '../compute/index.ts';
import { UsageError } from './flags.ts';

export function templateBudgetFromFlags(f: Record<string, unknown>): { timeoutMs: number; memoryLimitMb: number } {
  let memoryLimitMb: number;
  try {
    memoryLimitMb = parseMemoryLimitMb(String(f['template-memory-limit']));
  } catch (e) {
    throw new UsageError(`--template-memory-limit: ${(e as Error).message}`);
  }
  const timeoutMs = parseDurationMs(String(f['template-timeout']));
  if (!(timeoutMs > 0)) throw new UsageError('--template-timeout: must be more than 0');
  return { timeoutMs, memoryLimitMb };
}
