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
import { computePushEntries, decodePushResult, pushBudgetField, pushNeedsIsolation, type PushEntriesInput, type PushEntriesResult, type PushEntriesTask, type WirePushEntriesResult } from './push.ts';
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

export type { PushEntriesInput, PushEntriesResult } from './push.ts';

export interface DesiredSecretCompute {
  computeDesiredSecret(input: ComputeInput, opts?: { signal?: AbortSignal | undefined }): Promise<DesiredSecretResult>;
  /** A PushSecret's entries for one store; its dataTo rewrite transforms render in a worker. `namespace` shares the workers fairly. */
  computePushEntries(input: PushEntriesInput, opts: { namespace: string; signal?: AbortSignal | undefined }): Promise<PushEntriesResult>;
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
  /** A worker's budget overrun as the object's own error, naming the flag that sets the budget. */
  const overrun = (err: PoolBudgetError, field: string | undefined) => {
    const flag = err.budget === 'time' ? '--template-timeout' : '--template-memory-limit';
    const size = err.budget === 'memory' ? `memory limit ${memory}` : err.message;
    return syncErrors.computeBudgetExceeded(field, `${size} (${flag})`);
  };
  return {
    async computeDesiredSecret(input, { signal } = {}) {
      if (!opts.isolateAll && !needsIsolation(input.externalSecret)) return computeWithoutTemplates(input);
      try {
        const key = input.externalSecret.metadata.namespace ?? '';
        pool ??= new ComputePool(opts);
        return decodeResult((await pool.run(encodeInput(input), { signal, key })) as WireResult);
      } catch (err) {
        if (err instanceof PoolBudgetError) return { ok: false, error: overrun(err, budgetField(input.externalSecret)) };
        throw err;
      }
    },
    async computePushEntries(input, { namespace, signal }) {
      if (!pushNeedsIsolation(input)) return computePushEntries(input, undefined);
      try {
        pool ??= new ComputePool(opts);
        // Each value alone (a view may share a larger buffer, which would cross whole).
        const source = new Map([...input.source].map(([k, v]) => [k, new Uint8Array(v)]));
        const task: PushEntriesTask = { kind: 'pushEntries', data: input.data, dataToForStore: input.dataToForStore, source };
        return decodePushResult((await pool.run(task, { signal, key: namespace })) as WirePushEntriesResult);
      } catch (err) {
        if (err instanceof PoolBudgetError) return { ok: false, error: overrun(err, pushBudgetField(input)) };
        throw err;
      }
    },
    close: async () => {
      await pool?.close();
    },
  };
}
