// PushSecret's key expansion (spec.data and spec.dataTo, src/sync/push.ts) as compute: dataTo's
// rewrite transforms are tenant templates run once per source key, so a PushSecret that has any
// is expanded in a compute worker under the template budget, as an ExternalSecret's transforms
// are; one without transforms is expanded inline, without a template engine.
import type { PushSecretData, PushSecretDataTo } from '../api/types.generated.ts';
import { pushEntries, type PushEntry } from '../sync/push.ts';
import type { RenderKeyTemplate } from '../sync/rewrite.ts';
import type { SyncError } from '../sync/errors.ts';
import { withinEngineLimits } from './plain.ts';
import { decodeError, encodeError, type WireError } from './wire.ts';

export interface PushEntriesInput {
  data: readonly PushSecretData[];
  dataToForStore: ReadonlyArray<{ entry: PushSecretDataTo; index: number }>;
  source: ReadonlyMap<string, Uint8Array>;
}

export type PushEntriesResult = { ok: true; entries: PushEntry[] } | { ok: false; error: SyncError };

/** What crosses to a worker and back (structured clone keeps Maps and byte arrays). */
export interface PushEntriesTask extends PushEntriesInput {
  kind: 'pushEntries';
}
export type WirePushEntriesResult = { ok: true; entries: PushEntry[] } | { ok: false; error: WireError };

/** A dataTo entry with a rewrite transform: a tenant template per source key. */
function hasTransform({ entry }: { entry: PushSecretDataTo }): boolean {
  return (entry.rewrite ?? []).some((r) => r.transform);
}

/** Tenant-driven compute: a rewrite transform in a dataTo entry for this store. */
export function pushNeedsIsolation(input: PushEntriesInput): boolean {
  return input.dataToForStore.some(hasTransform);
}

/** Where a budget overrun is reported: the first dataTo entry with a transform. */
export function pushBudgetField(input: PushEntriesInput): string | undefined {
  const first = input.dataToForStore.find(hasTransform);
  return first ? `spec.dataTo[${first.index}].rewrite` : undefined;
}

/** pushEntries with a SyncError or an engine limit as a result, not a throw. Never throws for tenant input. */
export function computePushEntries(input: PushEntriesInput, renderKeyTemplate: RenderKeyTemplate | undefined): PushEntriesResult {
  return withinEngineLimits((): PushEntriesResult => ({ ok: true, entries: pushEntries(input.data, input.dataToForStore, input.source, renderKeyTemplate) }), pushBudgetField(input));
}

export function encodePushResult(r: PushEntriesResult): WirePushEntriesResult {
  return r.ok ? r : { ok: false, error: encodeError(r.error) };
}

export function decodePushResult(w: WirePushEntriesResult): PushEntriesResult {
  return w.ok ? w : { ok: false, error: decodeError(w.error) };
}
