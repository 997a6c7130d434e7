// Step 3 on the controller's event loop, for the ExternalSecrets without tenant-driven compute
// (no target.template, no rewrite transform; needsIsolation in ./index.ts): desiredSecret without
// template hooks. This module loads no template engine, nor the libraries its functions need
// (node-forge, bcryptjs: ~1 MB of code), so a controller whose ExternalSecrets have no templates
// never loads them; the compute workers do (./task.ts).
import { desiredSecret, type DesiredSecretResult } from '../sync/desired.ts';
import { isSyncError, syncErrors, type SyncError } from '../sync/errors.ts';
import { asBudgetError } from '../template/budget.ts';
import type { ComputeInput } from './wire.ts';

function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && e.message === 'Maximum call stack size exceeded';
}

/**
 * Runs tenant-driven compute (step 3, a PushSecret's key expansion) and answers, as a failed
 * result rather than a throw, its SyncError and the engine's own limits hit outside a template
 * function (string length, stack) as ComputeBudgetExceeded on `field`.
 */
export function withinEngineLimits<R>(compute: () => R, field?: string): R | { ok: false; error: SyncError } {
  try {
    return compute();
  } catch (err) {
    if (isSyncError(err)) return { ok: false, error: err };
    const budget = asBudgetError(err);
    if (budget) return { ok: false, error: syncErrors.computeBudgetExceeded(field, budget.message) };
    if (isStackOverflow(err)) return { ok: false, error: syncErrors.computeBudgetExceeded(field, 'the computation nested deeper than the stack limit') };
    throw err;
  }
}

/**
 * desiredSecret for an input without target.template or rewrite transforms. Without hooks, a
 * template that reached it anyway would be answered as TemplateEngineUnavailable, not rendered.
 * Never throws for tenant input.
 */
export function computeWithoutTemplates(input: ComputeInput): DesiredSecretResult {
  return withinEngineLimits(() => desiredSecret({ externalSecret: input.externalSecret, fetched: input.fetched, existing: input.existing }));
}
