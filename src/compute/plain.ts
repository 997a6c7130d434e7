// Step 3 on the controller's event loop, for the ExternalSecrets without tenant-driven compute
// (no target.template, no rewrite transform; needsIsolation in ./index.ts): desiredSecret without
// template hooks. This module loads no template engine, nor the libraries its functions need
// (node-forge, bcryptjs: ~1 MB of code), so a controller whose ExternalSecrets have no templates
// never loads them; the compute workers do (./task.ts).
import { desiredSecret, type DesiredSecretResult } from '../sync/desired.ts';
import { syncErrors } from '../sync/errors.ts';
import { asBudgetError } from '../template/budget.ts';
import type { ComputeInput } from './wire.ts';

function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && e.message === 'Maximum call stack size exceeded';
}

/** Runs step 3, answering the engine's own limits (string length, stack) as ComputeBudgetExceeded. */
export function withinEngineLimits(compute: () => DesiredSecretResult): DesiredSecretResult {
  try {
    return compute();
  } catch (err) {
    // Limits of the engine itself (string length, stack) hit outside a template function.
    const budget = asBudgetError(err);
    if (budget) return { ok: false, error: syncErrors.computeBudgetExceeded(undefined, budget.message) };
    if (isStackOverflow(err)) return { ok: false, error: syncErrors.computeBudgetExceeded(undefined, 'the computation nested deeper than the stack limit') };
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
