// spec.provider.fake: values declared in the store itself, for demos and tests, as ESO's
// fake provider. `valueMap` (deprecated in ESO) is served as Go's JSON of the map (keys sorted).
// Pushed values live in the client, as in ESO's fake: they are read back until the store changes;
// a key declared in the store is never overwritten, and deletion does nothing.
import { goJsonMarshal } from '../../go/json.ts';
import type { FindQuery, Provider, ProviderClient, PushRef, PushRequest, RemoteValue, RemoteValueRef } from '../provider.ts';
import { NotFoundError } from '../provider.ts';
import { RemoteNotOwnedError } from '../common/push.ts';
import { nameRegexpFilter } from '../common/name-regexp.ts';

export interface FakeProviderConfig {
  data?: Array<{ key: string; value?: string; version?: string; valueMap?: Record<string, string> }>;
}

const enc = new TextEncoder();

class FakeClient implements ProviderClient {
  private readonly entries: NonNullable<FakeProviderConfig['data']>;
  /** Values written by PushSecret (ESO's FakeSetSecret origin). */
  private readonly pushed = new Map<string, Uint8Array>();
  constructor(config: FakeProviderConfig) {
    this.entries = config.data ?? [];
  }

  private valueOf(e: NonNullable<FakeProviderConfig['data']>[number]): RemoteValue {
    return { value: enc.encode(e.valueMap ? goJsonMarshal(e.valueMap) : (e.value ?? '')) };
  }

  async getValue(ref: RemoteValueRef, signal?: AbortSignal): Promise<RemoteValue> {
    signal?.throwIfAborted();
    const pushed = (ref.version ?? '') === '' ? this.pushed.get(ref.key) : undefined;
    if (pushed) return { value: pushed };
    const e = this.entries.find((d) => d.key === ref.key && (d.version ?? '') === (ref.version ?? ''));
    if (!e) throw new NotFoundError(`fake: key "${ref.key}"${ref.version ? ` version "${ref.version}"` : ''} not found`);
    return this.valueOf(e);
  }

  async findValues(query: FindQuery, signal?: AbortSignal): Promise<Map<string, RemoteValue>> {
    signal?.throwIfAborted();
    const matches = query.name?.regexp !== undefined ? nameRegexpFilter(query.name.regexp) : undefined;
    const out = new Map<string, RemoteValue>();
    for (const e of this.entries) {
      if ((e.version ?? '') !== '') continue;
      if (query.path && !e.key.startsWith(query.path)) continue;
      if (matches && !matches(e.key)) continue;
      out.set(e.key, this.valueOf(e));
    }
    return out;
  }

  async pushValue(req: PushRequest, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.entries.some((d) => d.key === req.ref.remoteKey)) throw new RemoteNotOwnedError(`fake ${JSON.stringify(req.ref.remoteKey)}`);
    this.pushed.set(req.ref.remoteKey, req.value);
  }

  async deleteValue(_ref: PushRef, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
  }

  async remoteExists(ref: PushRef, signal?: AbortSignal): Promise<boolean> {
    signal?.throwIfAborted();
    return this.pushed.has(ref.remoteKey) || this.entries.some((d) => d.key === ref.remoteKey);
  }

  async validate(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
  }
  async close(): Promise<void> {}
}

export const fakeProvider: Provider<FakeProviderConfig> = {
  name: 'fake',
  validateConfig(config) {
    const problems: string[] = [];
    (config.data ?? []).forEach((d, i) => {
      if (!d.key) problems.push(`spec.provider.fake.data[${i}].key: required`);
      if (d.value === undefined && d.valueMap === undefined) problems.push(`spec.provider.fake.data[${i}]: one of value or valueMap is required`);
    });
    return problems;
  },
  // As ESO 2.9 reports it for the fake provider: it reads and takes pushes.
  capabilities: () => 'ReadWrite',
  newClient: async (config) => new FakeClient(config),
};
