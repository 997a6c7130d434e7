// Reads AWS Systems Manager Parameter Store: GetParameter (decrypted) for one key, GetParameters
// (10 names per call) for many, GetParametersByPath or DescribeParameters for dataFrom.find, and
// ListTagsForResource for metadataPolicy: Fetch. Writes for PushSecret as ESO does: PutParameter
// with the managed-by tag on create, overwrite and delete only of a parameter tagged so.
import { goJsonMarshal } from '../../go/json.ts';
import { ProviderError, isNotFound } from '../provider.ts';
import type { FindQuery, ProviderClient, PushRef, PushRequest, RemoteValue, RemoteValueRef } from '../provider.ts';
import { MANAGED_BY_KEY, MANAGED_BY_VALUE, RemoteNotOwnedError, pushMetadataSpec, stringMapField } from '../common/push.ts';
import { batchEntryError, toProviderError } from './errors.ts';
import { chunk, mapLimit, parameterSelector, tagsToJson } from './refs.ts';
import { nameRegexpFilter } from '../common/name-regexp.ts';
import { abortReason } from '../../shared-call.ts';

type SsmModule = typeof import('@aws-sdk/client-ssm');
type SsmClient = InstanceType<SsmModule['SSMClient']>;
type ParameterStringFilter = NonNullable<import('@aws-sdk/client-ssm').DescribeParametersRequest['ParameterFilters']>[number];

/** GetParameters takes at most 10 names per call. */
export const PARAMETERS_BATCH_SIZE = 10;
const CONCURRENCY = 8;
/** The spec fields of ESO's Parameter Store push metadata that Tessera reads. */
const PS_METADATA_FIELDS = ['tags', 'description', 'secretType', 'kmsKeyID', 'encodeAsDecoded'];
const decoder = new TextDecoder();

export interface ParameterStoreReaderOptions {
  prefix?: string | undefined;
  onClose?: (() => void) | undefined;
}

const encoder = new TextEncoder();

function parameterValue(p: { Value?: string | undefined } | undefined, key: string, operation: string): RemoteValue {
  if (p?.Value === undefined || p.Value === null) {
    throw new ProviderError('InvalidRequest', `AWS ParameterStore ${operation} ${JSON.stringify(key)}: the parameter has no value`);
  }
  return { value: encoder.encode(p.Value) };
}

/** The hierarchy path for GetParametersByPath: "/" stays, a trailing "/" is dropped. */
export function parameterPath(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

export class ParameterStoreReader implements ProviderClient {
  readonly #sdk: SsmModule;
  readonly #client: SsmClient;
  readonly #prefix: string;
  readonly #onClose: (() => void) | undefined;
  /** Set once GetParameters (ssm:GetParameters) is denied: read one GetParameter per key. */
  #batchDenied = false;

  constructor(sdk: SsmModule, client: SsmClient, options: ParameterStoreReaderOptions = {}) {
    this.#sdk = sdk;
    this.#client = client;
    this.#prefix = options.prefix ?? '';
    this.#onClose = options.onClose;
  }

  get batchDenied(): boolean {
    return this.#batchDenied;
  }

  async #send<T>(operation: string, key: string | undefined, send: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    try {
      return await send();
    } catch (err) {
      // Cancelled by the caller: its reason goes up as it is, not as a failure of AWS.
      if (signal?.aborted) throw abortReason(signal);
      throw toProviderError(err, { service: 'ParameterStore', operation, key });
    }
  }

  async getValue(ref: RemoteValueRef, signal?: AbortSignal): Promise<RemoteValue> {
    const name = this.#prefix + ref.key;
    return ref.metadataPolicy === 'Fetch' ? this.#readTags(name, signal) : this.#readOne(parameterSelector(name, ref.version), signal);
  }

  async getValues(refs: readonly RemoteValueRef[], signal?: AbortSignal): Promise<Array<RemoteValue | Error>> {
    return this.#readMany(refs.map((ref) => ({ name: this.#prefix + ref.key, ref })), signal);
  }

  async #readTags(name: string, signal: AbortSignal | undefined): Promise<RemoteValue> {
    const out = await this.#send('ListTagsForResource', name, () =>
      this.#client.send(new this.#sdk.ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: name }), { abortSignal: signal }),
      signal,
    );
    return { value: encoder.encode(tagsToJson(out.TagList ?? [])) };
  }

  async #readOne(selector: string, signal: AbortSignal | undefined): Promise<RemoteValue> {
    const out = await this.#send('GetParameter', selector, () =>
      this.#client.send(new this.#sdk.GetParameterCommand({ Name: selector, WithDecryption: true }), { abortSignal: signal }),
      signal,
    );
    return parameterValue(out.Parameter, selector, 'GetParameter');
  }

  /** Reads `items` (names with the prefix applied), batching plain value reads; an abort rejects it all. */
  async #readMany(items: ReadonlyArray<{ name: string; ref: RemoteValueRef }>, signal: AbortSignal | undefined): Promise<Array<RemoteValue | Error>> {
    const results = new Array<RemoteValue | Error>(items.length);
    const bySelector = new Map<string, number[]>();
    const tagReads: number[] = [];
    items.forEach(({ name, ref }, i) => {
      if (ref.metadataPolicy === 'Fetch') {
        tagReads.push(i);
        return;
      }
      const selector = parameterSelector(name, ref.version);
      const at = bySelector.get(selector);
      if (at) at.push(i);
      else bySelector.set(selector, [i]);
    });
    const unresolved = new Set<string>(bySelector.keys());
    // Only plain names are batched: GetParameters answers `name:version` with the bare name (no
    // Selector) on some implementations, which would make two reads of one name ambiguous.
    const plain = items.filter(({ ref }) => !ref.version && ref.metadataPolicy !== 'Fetch').map(({ name }) => name);
    if (!this.#batchDenied && plain.length > 0) {
      const byName = await this.#batchRead([...new Set(plain)], signal);
      for (const [selector, r] of byName) {
        unresolved.delete(selector);
        for (const i of bySelector.get(selector)!) results[i] = r;
      }
    }
    const reads: Array<() => Promise<void>> = [];
    for (const i of tagReads) {
      reads.push(async () => {
        try {
          results[i] = await this.#readTags(items[i]!.name, signal);
        } catch (err) {
          results[i] = err as Error;
        }
      });
    }
    for (const selector of unresolved) {
      reads.push(async () => {
        let r: RemoteValue | Error;
        try {
          r = await this.#readOne(selector, signal);
        } catch (err) {
          r = err as Error;
        }
        for (const i of bySelector.get(selector)!) results[i] = r;
      });
    }
    await mapLimit(reads, CONCURRENCY, (run) => run());
    signal?.throwIfAborted();
    return results;
  }

  /** GetParameters in groups of 10; names it cannot account for are left for a per-key read. */
  async #batchRead(names: string[], signal: AbortSignal | undefined): Promise<Map<string, RemoteValue | Error>> {
    const out = new Map<string, RemoteValue | Error>();
    await mapLimit(chunk(names, PARAMETERS_BATCH_SIZE), 4, async (group) => {
      if (this.#batchDenied) return;
      signal?.throwIfAborted();
      let page;
      try {
        page = await this.#client.send(new this.#sdk.GetParametersCommand({ Names: group, WithDecryption: true }), { abortSignal: signal });
      } catch (err) {
        if (signal?.aborted) throw abortReason(signal);
        const mapped = toProviderError(err, { service: 'ParameterStore', operation: 'GetParameters' });
        if (mapped.kind === 'AccessDenied') {
          this.#batchDenied = true;
          return;
        }
        for (const s of group) out.set(s, mapped);
        return;
      }
      const invalid = new Set(page.InvalidParameters ?? []);
      for (const selector of group) {
        const p = (page.Parameters ?? []).find((p) => !p.Selector && (p.Name === selector || p.ARN === selector));
        if (p) {
          try {
            out.set(selector, parameterValue(p, selector, 'GetParameters'));
          } catch (err) {
            out.set(selector, err as Error);
          }
        } else if (invalid.has(selector)) {
          out.set(selector, batchEntryError({ service: 'ParameterStore', operation: 'GetParameters', key: selector }, 'ParameterNotFound', undefined));
        }
      }
    });
    return out;
  }

  async findValues(query: FindQuery, signal?: AbortSignal): Promise<Map<string, RemoteValue>> {
    const matcher = query.name?.regexp !== undefined ? nameRegexpFilter(query.name.regexp) : undefined;
    const tags = Object.entries(query.tags ?? {});
    const scope = this.#prefix + (query.path ?? '');
    if (!matcher && tags.length === 0 && scope === '') {
      throw new ProviderError('InvalidRequest', 'find: name, tags or path is required for AWS ParameterStore');
    }
    const hierarchical = scope === '' || scope.startsWith('/');

    if (tags.length === 0 && hierarchical) {
      try {
        return await this.#findByPath(scope === '' ? '/' : parameterPath(scope), matcher, signal);
      } catch (err) {
        // As ESO: without ssm:GetParametersByPath, list with DescribeParameters and read by name.
        if (!(err instanceof ProviderError && err.kind === 'AccessDenied')) throw err;
      }
    }
    return this.#findByDescribe(scope, hierarchical, tags, matcher, signal);
  }

  /** GetParametersByPath returns the values with the names: one pass, 10 per page. */
  async #findByPath(path: string, matcher: ((name: string) => boolean) | undefined, signal: AbortSignal | undefined): Promise<Map<string, RemoteValue>> {
    const out = new Map<string, RemoteValue>();
    let nextToken: string | undefined;
    do {
      const page = await this.#send('GetParametersByPath', path, () =>
        this.#client.send(
          new this.#sdk.GetParametersByPathCommand({ Path: path, Recursive: true, WithDecryption: true, MaxResults: 10, ...(nextToken ? { NextToken: nextToken } : {}) }),
          { abortSignal: signal },
        ),
        signal,
      );
      for (const p of page.Parameters ?? []) {
        if (p.Name === undefined || (matcher && !matcher(p.Name))) continue;
        out.set(p.Name, parameterValue(p, p.Name, 'GetParametersByPath'));
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return out;
  }

  /** DescribeParameters (tags, path or name prefix) lists names; GetParameters reads them. */
  async #findByDescribe(scope: string, hierarchical: boolean, tags: Array<[string, string]>, matcher: ((name: string) => boolean) | undefined, signal: AbortSignal | undefined): Promise<Map<string, RemoteValue>> {
    const filters: ParameterStringFilter[] = tags.map(([k, v]) => ({ Key: `tag:${k}`, Option: 'Equals', Values: [v] }));
    if (scope !== '') {
      filters.push(
        hierarchical && scope !== '/'
          ? { Key: 'Path', Option: 'Recursive', Values: [parameterPath(scope)] }
          : { Key: 'Name', Option: 'BeginsWith', Values: [scope] },
      );
    }
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.#send('DescribeParameters', undefined, () =>
        this.#client.send(
          new this.#sdk.DescribeParametersCommand({ MaxResults: 50, ...(filters.length > 0 ? { ParameterFilters: filters } : {}), ...(nextToken ? { NextToken: nextToken } : {}) }),
          { abortSignal: signal },
        ),
        signal,
      );
      for (const p of page.Parameters ?? []) {
        if (p.Name === undefined || (matcher && !matcher(p.Name))) continue;
        names.push(p.Name);
      }
      nextToken = page.NextToken;
    } while (nextToken);

    const unique = [...new Set(names)];
    // Names are read as listed (the prefix is already part of them).
    const values = await this.#readMany(unique.map((name) => ({ name, ref: { key: name } })), signal);
    const out = new Map<string, RemoteValue>();
    unique.forEach((name, i) => {
      const v = values[i]!;
      if (v instanceof Error) {
        if (isNotFound(v)) return; // deleted between listing and reading
        throw v;
      }
      out.set(name, v);
    });
    return out;
  }

  // ---- PushSecret ----------------------------------------------------------------------------

  /** The parameter's tags, or undefined when it does not exist. */
  async #tagsOf(name: string, signal: AbortSignal | undefined): Promise<Map<string, string> | undefined> {
    try {
      await this.#readOne(name, signal);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    const out = await this.#send('ListTagsForResource', name, () =>
      this.#client.send(new this.#sdk.ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: name }), { abortSignal: signal }), signal);
    return new Map((out.TagList ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
  }

  async pushValue(req: PushRequest, signal?: AbortSignal): Promise<void> {
    const name = this.#prefix + req.ref.remoteKey;
    const spec = pushMetadataSpec(req.metadata, PS_METADATA_FIELDS, 'AWS ParameterStore');
    const tags = stringMapField(spec, 'tags', 'AWS ParameterStore');
    if (Object.hasOwn(tags, MANAGED_BY_KEY)) {
      throw new ProviderError('InvalidRequest', `spec.data[].metadata.spec.tags (AWS ParameterStore): cannot specify a '${MANAGED_BY_KEY}' tag`);
    }
    const type = spec?.secretType ?? 'String';
    if (type !== 'String' && type !== 'StringList' && type !== 'SecureString') {
      throw new ProviderError('InvalidRequest', `spec.data[].metadata.spec.secretType (AWS ParameterStore): must be String, StringList or SecureString`);
    }
    // A whole Secret is Go's JSON of its []byte values (base64) unless encodeAsDecoded, as ESO.
    const value = req.wholeSecret && spec?.encodeAsDecoded !== true
      ? goJsonMarshal(new Map(req.wholeSecret), { escapeHTML: false })
      : decoder.decode(req.value);
    const current = await this.#tagsOf(name, signal);
    const base = {
      Name: name,
      Value: value,
      Type: type,
      Description: typeof spec?.description === 'string' && spec.description !== '' ? spec.description : `secret '${MANAGED_BY_KEY}:${MANAGED_BY_VALUE}'`,
      ...(type === 'SecureString' ? { KeyId: typeof spec?.kmsKeyID === 'string' && spec.kmsKeyID !== '' ? spec.kmsKeyID : 'alias/aws/ssm' } : {}),
    } as const;
    if (!current) {
      await this.#send('PutParameter', name, () => this.#client.send(new this.#sdk.PutParameterCommand({
        ...base,
        Overwrite: false,
        Tags: [...Object.entries(tags).map(([Key, Value]) => ({ Key, Value })), { Key: MANAGED_BY_KEY, Value: MANAGED_BY_VALUE }],
      }), { abortSignal: signal }), signal);
      return;
    }
    if (current.get(MANAGED_BY_KEY) !== MANAGED_BY_VALUE) throw new RemoteNotOwnedError(`AWS ParameterStore ${JSON.stringify(name)}`);
    const existing = await this.#readOne(name, signal);
    if (decoder.decode(existing.value) !== value) {
      await this.#send('PutParameter', name, () => this.#client.send(new this.#sdk.PutParameterCommand({ ...base, Overwrite: true }), { abortSignal: signal }), signal);
    }
    const changed = Object.entries(tags).filter(([k, v]) => current.get(k) !== v);
    if (changed.length > 0) {
      await this.#send('AddTagsToResource', name, () => this.#client.send(new this.#sdk.AddTagsToResourceCommand({
        ResourceType: 'Parameter', ResourceId: name, Tags: changed.map(([Key, Value]) => ({ Key, Value })),
      }), { abortSignal: signal }), signal);
    }
  }

  async deleteValue(ref: PushRef, signal?: AbortSignal): Promise<void> {
    const name = this.#prefix + ref.remoteKey;
    const tags = await this.#tagsOf(name, signal);
    // Gone already, or not ours: nothing to do (ESO returns quietly too).
    if (!tags || tags.get(MANAGED_BY_KEY) !== MANAGED_BY_VALUE) return;
    try {
      await this.#send('DeleteParameter', name, () => this.#client.send(new this.#sdk.DeleteParameterCommand({ Name: name }), { abortSignal: signal }), signal);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async remoteExists(ref: PushRef, signal?: AbortSignal): Promise<boolean> {
    try {
      await this.#readOne(this.#prefix + ref.remoteKey, signal);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async validate(signal?: AbortSignal): Promise<void> {
    try {
      await this.#client.send(new this.#sdk.DescribeParametersCommand({ MaxResults: 1 }), { abortSignal: signal });
    } catch (err) {
      if (signal?.aborted) throw abortReason(signal);
      const mapped = toProviderError(err, { service: 'ParameterStore', operation: 'DescribeParameters' });
      // Denied means AWS authenticated the caller: the store works for the keys it may read.
      if (mapped.kind === 'AccessDenied') return;
      throw mapped;
    }
  }

  async close(): Promise<void> {
    this.#client.destroy();
    this.#onClose?.();
  }
}
