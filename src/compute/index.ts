// Step 3 of the sync, off the event loop: computeDesiredSecret runs desiredSecret with the
// template hooks in a compute worker (src/compute/pool.ts) under a time and memory budget, and
// answers a budget overrun as the ExternalSecret's own ComputeBudgetExceeded error.
//
// Which ExternalSecrets go to a worker is a decision with measurements behind it: see
// docs/adr/0005-untrusted-compute-in-workers.md. Only tenant-driven compute (target.template,
// rewrite transforms) does; the rest is linear in its input and runs inline.
import type { ExternalSecret } from '../api/types.generated.ts';
import type { DesiredSecretResult } from '../sync/desired.ts';
import { syncErrors } from '../sync/errors.ts';
import { ComputePool, PoolBudgetError, type ComputePoolOptions } from './pool.ts';
import { computeWithoutTemplates } from './plain.ts';
import { decodeResult, encodeInput, type ComputeInput, type WireResult } from './wire.ts';

export { ComputePool, PoolBudgetError, WorkerTaskError, type ComputePoolOptions } from './pool.ts';
export { parseMemoryLimitMb, DEFAULT_TEMPLATE_MEMORY_LIMIT, DEFAULT_TEMPLATE_TIMEOUT, DEFAULT_TEMPLATE_WORKERS } from './budget.ts';
export type { ComputeInput } from './wire.ts';

/** Tenant-driven compute: a template or a rewrite transform. */
export function needsIsolation(es: ExternalSecret): boolean {
  if (es.spec.target?.template) return true;
  return (es.spec.dataFrom ?? []).some((d) => (d.rewrite ?? []).some((r) => r.transform));
}

/** Where a budget overrun is reported: the tenant's template, if any. */
function budgetField(es: ExternalSecret): string | undefined {
  if (es.spec.target?.template) return 'spec.target.template';
  const i = (es.spec.dataFrom ?? []).findIndex((d) => (d.rewrite ?? []).some((r) => r.transform));
  return i >= 0 ? `spec.dataFrom[${i}].rewrite` : undefined;
}

export interface DesiredSecretCompute {
  computeDesiredSecret(input: ComputeInput, opts?: { signal?: AbortSignal | undefined }): Promise<DesiredSecretResult>;
  close(): Promise<void>;
}

export interface ComputeOptions extends Omit<ComputePoolOptions, 'workerUrl'> {
  /** Send every ExternalSecret to a worker, not only those with tenant-driven compute. */
  isolateAll?: boolean | undefined;
}

export function createDesiredSecretCompute(opts: ComputeOptions): DesiredSecretCompute {
  // Started on first use: a controller (or a render) without templates never starts a worker.
  let pool: ComputePool | undefined;
  const memory = `${opts.memoryLimitMb}Mi`;
  return {
    async computeDesiredSecret(input, { signal } = {}) {
      if (!opts.isolateAll && !needsIsolation(input.externalSecret)) return computeWithoutTemplates(input);
      try {
        const key = input.externalSecret.metadata.namespace ?? '';
        pool ??= new ComputePool(opts);
        return decodeResult((await pool.run(encodeInput(input), { signal, key })) as WireResult);
      } catch (err) {
        if (err instanceof PoolBudgetError) {
          const flag = err.budget === 'time' ? '--template-timeout' : '--template-memory-limit';
          const size = err.budget === 'memory' ? `memory limit ${memory}` : err.message;
          return { ok: false, error: syncErrors.computeBudgetExceeded(budgetField(input.externalSecret), `${size} (${flag})`) };
        }
        throw err;
      }
    },
    close: async () => {
      await pool?.close();
    },
  };
}
