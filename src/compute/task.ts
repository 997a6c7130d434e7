// Step 3 as a task: what a compute worker runs for one ExternalSecret. Pure, like desiredSecret
// itself; it only adds the wire format and turns engine limits into ComputeBudgetExceeded.
import { desiredSecret, type DesiredSecretResult } from '../sync/desired.ts';
import { makeRenderTemplate, renderKeyTemplate } from '../sync/template.ts';
import { withinEngineLimits } from './plain.ts';
import { computePushEntries, encodePushResult, type PushEntriesTask, type WirePushEntriesResult } from './push.ts';
import { decodeInput, encodeResult, type ComputeInput, type WireInput, type WireResult } from './wire.ts';

/** desiredSecret with the template hooks, on a decoded input. Never throws for tenant input. */
export function computeInline(input: ComputeInput): DesiredSecretResult {
  return withinEngineLimits(() => desiredSecret({
    externalSecret: input.externalSecret,
    fetched: input.fetched,
    existing: input.existing,
    renderTemplate: makeRenderTemplate(input.sources ?? {}, input.renderOptions ?? {}),
    renderKeyTemplate,
  }));
}

/** The worker's handler: wire input in, wire result out. */
export function runDesiredSecretTask(w: WireInput): WireResult {
  return encodeResult(computeInline(decodeInput(w)));
}

/** The worker's handler for a PushSecret's key expansion with rewrite transforms. */
export function runPushEntriesTask(t: PushEntriesTask): WirePushEntriesResult {
  return encodePushResult(computePushEntries(t, renderKeyTemplate));
}
