// The wire format of a step-3 task between the controller and a compute worker.
//
// Structured clone would carry most of the input as is, but not faithfully: the NOT_FOUND
// sentinel loses its identity, class instances (SyncError, Buffer) lose their class, and a
// Uint8Array view drags its whole underlying ArrayBuffer along (a pooled Buffer's 8 KiB slab, or
// a whole HTTP response body). So every value crosses as a tagged plain object holding a compact
// copy of its bytes, and both ends rebuild the domain types from the tags.
import type { ExternalSecret } from '../api/types.generated.ts';
import {
  NOT_FOUND, type DesiredSecretResult, type FetchedDataFrom, type FetchedValue, type FetchedValues, type SyncPlan,
} from '../sync/desired.ts';
import { SyncError, SyncErrorCode } from '../sync/errors.ts';
import type { Secret } from '../sync/secret.ts';
import type { RenderOptions } from '../sync/template.ts';
import type { TemplateSources } from '../sync/template-refs.ts';

/** Everything step 3 needs: the pure desiredSecret input without the render hooks. */
export interface ComputeInput {
  externalSecret: ExternalSecret;
  fetched: FetchedValues;
  /** The target Secret as it exists now, or undefined. */
  existing?: Secret | undefined;
  /** The ConfigMaps and Secrets templateFrom reads (fetched by the controller first). */
  sources?: TemplateSources | undefined;
  renderOptions?: RenderOptions | undefined;
}

export type WireValue =
  | { kind: 'value'; bytes: Uint8Array }
  | { kind: 'notFound' }
  | { kind: 'map'; entries: Array<[string, Uint8Array]> };

export interface WireInput {
  externalSecret: ExternalSecret;
  data: WireValue[];
  dataFrom: WireValue[];
  existing: Secret | undefined;
  configMaps: Array<[string, Record<string, string>]>;
  secrets: Array<[string, Array<[string, Uint8Array]>]>;
  renderOptions: RenderOptions;
}

export type WireResult =
  | { ok: true; plan: SyncPlan }
  | { ok: false; error: { code: SyncErrorCode; message: string; field: string | undefined } };

/** A copy holding only the view's bytes (never the rest of a shared ArrayBuffer). */
function compact(b: Uint8Array): Uint8Array {
  return new Uint8Array(b); // copies exactly b.length bytes into a fresh buffer
}

function isNotFound(v: unknown): boolean {
  return typeof v === 'object' && v !== null && (v as { notFound?: unknown }).notFound === true;
}

function encodeValue(v: FetchedDataFrom, where: string): WireValue {
  if (isNotFound(v)) return { kind: 'notFound' };
  if (v instanceof Map) return { kind: 'map', entries: [...v].map(([k, r]) => [k, compact(r.value)]) };
  const value = (v as { value?: unknown }).value;
  if (value instanceof Uint8Array) return { kind: 'value', bytes: compact(value) };
  throw new TypeError(`${where}: not a fetched value`);
}

function decodeValue(w: WireValue): FetchedDataFrom {
  switch (w.kind) {
    case 'notFound': return NOT_FOUND;
    case 'value': return { value: w.bytes };
    case 'map': return new Map(w.entries.map(([k, bytes]) => [k, { value: bytes }]));
  }
}

export function encodeInput(input: ComputeInput): WireInput {
  return {
    externalSecret: input.externalSecret,
    data: input.fetched.data.map((v, i) => encodeValue(v, `fetched.data[${i}]`)),
    dataFrom: input.fetched.dataFrom.map((v, i) => encodeValue(v, `fetched.dataFrom[${i}]`)),
    existing: input.existing,
    configMaps: [...(input.sources?.configMaps ?? [])].map(([name, rec]) => [name, { ...rec }]),
    secrets: [...(input.sources?.secrets ?? [])].map(([name, rec]) => [name, Object.entries(rec).map(([k, b]) => [k, compact(b)])]),
    renderOptions: { ...input.renderOptions },
  };
}

export function decodeInput(w: WireInput): ComputeInput {
  return {
    externalSecret: w.externalSecret,
    fetched: {
      data: w.data.map((v) => {
        if (v.kind === 'map') throw new TypeError('a spec.data value cannot be a map');
        return decodeValue(v) as FetchedValue;
      }),
      dataFrom: w.dataFrom.map(decodeValue),
    },
    existing: w.existing,
    sources: {
      configMaps: new Map(w.configMaps),
      secrets: new Map(w.secrets.map(([name, entries]) => [name, Object.fromEntries(entries)])),
    },
    renderOptions: w.renderOptions,
  };
}

/** A SyncError as it crosses from a worker: its code, message and field. */
export type WireError = Extract<WireResult, { ok: false }>['error'];

export function encodeError(e: SyncError): WireError {
  return { code: e.code, message: e.message, field: e.field };
}

const knownCodes: ReadonlySet<string> = new Set(Object.values(SyncErrorCode));

export function decodeError(e: WireError): SyncError {
  // A code this build does not know means the two ends disagree: a bug, never a tenant's input.
  if (!knownCodes.has(e.code)) throw new TypeError(`compute worker returned an unknown error code ${JSON.stringify(e.code)}`);
  return new SyncError(e.code, e.message, e.field);
}

export function encodeResult(r: DesiredSecretResult): WireResult {
  if (r.ok) return { ok: true, plan: r.plan };
  return { ok: false, error: encodeError(r.error) };
}

export function decodeResult(w: WireResult): DesiredSecretResult {
  if (w.ok) return { ok: true, plan: w.plan };
  return { ok: false, error: decodeError(w.error) };
}
