// Step 3 as a task: what a compute worker runs for one ExternalSecret. Pure, like desiredSecret
// itself; it only adds the wire format and turns engine limits into ComputeBudgetExceeded.
import { desiredSecret, type DesiredSecretResult } from '../sync/desired.ts';
import { syncErrors } from '../sync/errors.ts';
import { makeRenderTemplate, renderKeyTemplate } from '../sync/template.ts';
import { asBudgetError } from '../template/index.ts';
import { decodeInput, encodeResult, type ComputeInput, type WireInput, type WireResult } from './wire.ts';

function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && e.message === 'Maximum call stack size exceeded';
}

/** desiredSecret with the template hooks, on a decoded input. Never throws for tenant input. */
export function computeInline(input: ComputeInput): DesiredSecretResult {
  try {
    return desiredSecret({
      externalSecret: input.externalSecret,
      fetched: input.fetched,
      existing: input.existing,
      renderTemplate: makeRenderTemplate(input.sources ?? {}, input.renderOptions ?? {}),
      renderKeyTemplate,
    });
  } catch (err) {
    // Limits of the engine itself (string length, stack) hit outside a template function.
    const budget = asBudgetError(err);
    if (budget) return { ok: false, error: syncErrors.computeBudgetExceeded(undefined, budget.message) };
    if (isStackOverflow(err)) return { ok: false, error: syncErrors.computeBudgetExceeded(undefined, 'the computation nested deeper than the stack limit') };
    throw err;
  }
}

/** The worker's handler: wire input in, wire result out. */
export function runDesiredSecretTask(w: WireInput): WireResult {
  return encodeResult(computeInline(decodeInput(w)));
}
