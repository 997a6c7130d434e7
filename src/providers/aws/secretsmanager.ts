// Reads AWS Secrets Manager: GetSecretValue for one key, BatchGetSecretValue (20 ids per call)
// for many, ListSecrets + batch reads for dataFrom.find, DescribeSecret tags for
// metadataPolicy: Fetch. Writes for PushSecret as ESO does: CreateSecret with the managed-by tag,
// PutSecretValue only on a secret carrying it, DeleteSecret only of a secret carrying it.
import { randomUUID } from 'node:crypto';
import { ProviderError, isNotFound } from '../provider.ts';
import type { FindQuery, ProviderClient, PushRef, PushRequest, RemoteValue, RemoteValueRef } from '../provider.ts';
import { MANAGED_BY_KEY, MANAGED_BY_VALUE, RemoteNotOwnedError, pushMetadataSpec, stringMapField, withProperty } from '../common/push.ts';
import { batchEntryError, toProviderError } from './errors.ts';
import { chunk, mapLimit, secretsManagerVersion, tagsToJson } from './refs.ts';
import { nameRegexpFilter } from '../common/name-regexp.ts';
import { abortReason } from '../../shared-call.ts';

type SmModule = typeof import('@aws-sdk/client-secrets-manager');
type SmClient = InstanceType<SmModule['SecretsManagerClient']>;
type Filter = NonNullable<import('@aws-sdk/client-secrets-manager').ListSecretsRequest['Filters']>[number];

/** BatchGetSecretValue takes at most 20 secret ids per call. */
export const BATCH_SIZE = 20;
/** Parallel calls when falling back to one GetSecretValue per key. */
const CONCURRENCY = 8;
/** ESO's ClientRequestToken for the first version of a pushed secret. */
const INITIAL_VERSION = '00000000-0000-0000-0000-000000000001';
/** The spec fields of ESO's Secrets Manager push metadata that Tessera reads. */
const SM_METADATA_FIELDS = ['tags', 'description', 'secretPushFormat', 'kmsKeyId'];

export interface SecretsManagerReaderOptions {
  prefix?: string | undefined;
  /** spec.provider.aws.secretsManager: how a PushSecret's deletionPolicy Delete deletes. */
  deletion?: { forceDeleteWithoutRecovery?: boolean | undefined; recoveryWindowInDays?: number | undefined } | undefined;
  /** Extra cleanup on close (STS clients of the credential chain). */
  onClose?: (() => void) | undefined;
}

const encoder = new TextEncoder();

function entryValue(
  out: { SecretString?: string | undefined; SecretBinary?: Uint8Array | undefined },
  key: string,
  operation: string,
): RemoteValue {
  if (out.SecretString !== undefined && out.SecretString !== null) return { value: encoder.encode(out.SecretString) };
  if (out.SecretBinary !== undefined && out.SecretBinary !== null) return { value: new Uint8Array(out.SecretBinary) };
  throw new ProviderError('InvalidRequest', `AWS SecretsManager ${operation} ${JSON.stringify(key)}: the secret has neither SecretString nor SecretBinary`);
}

/** Whether a batch entry (name + ARN) answers the requested id (a name, a full or a partial ARN). */
export function entryMatchesId(entry: { Name?: string | undefined; ARN?: string | undefined }, id: string): boolean {
  if (entry.Name === id || entry.ARN === id) return true;
  // A partial ARN omits the 6-character random suffix Secrets Manager appends.
  return id.startsWith('arn:') && entry.ARN !== undefined && entry.ARN.length === id.length + 7 && entry.ARN.startsWith(`${id}-`);
}

export class SecretsManagerReader implements ProviderClient {
  readonly #sdk: SmModule;
  readonly #client: SmClient;
  readonly #prefix: string;
  readonly #onClose: (() => void) | undefined;
  readonly #deletion: SecretsManagerReaderOptions['deletion'];
  /** Set once BatchGetSecretValue is denied: this client then reads key by key for good. */
  #batchDenied = false;

  constructor(sdk: SmModule, client: SmClient, options: SecretsManagerReaderOptions = {}) {
    this.#sdk = sdk;
    this.#client = client;
    this.#prefix = options.prefix ?? '';
    this.#onClose = options.onClose;
    this.#deletion = options.deletion;
  }

  /** True once this client has stopped using BatchGetSecretValue (it was denied). */
  get batchDenied(): boolean {
    return this.#batchDenied;
  }

  async #send<T>(operation: string, key: string | undefined, send: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    try {
      return await send();
    } catch (err) {
      // Cancelled by the caller: its reason goes up as it is, not as a failure of AWS.
      if (signal?.aborted) throw abortReason(signal);
      throw toProviderError(err, { service: 'SecretsManager', operation, key });
    }
  }

  async getValue(ref: RemoteValueRef, signal?: AbortSignal): Promise<RemoteValue> {
    return this.#readOne(this.#prefix + ref.key, ref, signal);
  }

  async getValues(refs: readonly RemoteValueRef[], signal?: AbortSignal): Promise<Array<RemoteValue | Error>> {
    return this.#readMany(refs.map((ref) => ({ id: this.#prefix + ref.key, ref })), signal);
  }

  /** One read of `key` (prefix applied) as `ref` asks: a version, a stage or the tags. */
  async #readOne(key: string, ref: RemoteValueRef, signal: AbortSignal | undefined): Promise<RemoteValue> {
    if (ref.metadataPolicy === 'Fetch') {
      const out = await this.#send('DescribeSecret', key, () => this.#client.send(new this.#sdk.DescribeSecretCommand({ SecretId: key }), { abortSignal: signal }), signal);
      return { value: encoder.encode(tagsToJson(out.Tags ?? [])) };
    }
    const version = secretsManagerVersion(ref.version);
    const label = ref.version ? `${key}@${ref.version}` : key;
    const out = await this.#send('GetSecretValue', label, () =>
      this.#client.send(new this.#sdk.GetSecretValueCommand({ SecretId: key, ...version }), { abortSignal: signal }),
      signal,
    );
    return entryValue(out, label, 'GetSecretValue');
  }

  /** Reads every item; a failure is that item's result, but an abort rejects the whole read. */
  async #readMany(items: ReadonlyArray<{ id: string; ref: RemoteValueRef }>, signal: AbortSignal | undefined): Promise<Array<RemoteValue | Error>> {
    const results = new Array<RemoteValue | Error>(items.length);
    // Only current values can be batched: BatchGetSecretValue has no version or stage parameter.
    const batchable = new Map<string, number[]>();
    const single: number[] = [];
    items.forEach(({ id, ref }, i) => {
      if (!this.#batchDenied && !ref.version && ref.metadataPolicy !== 'Fetch') {
        const at = batchable.get(id);
        if (at) at.push(i);
        else batchable.set(id, [i]);
      } else {
        single.push(i);
      }
    });

    if (batchable.size > 0) {
      const byId = await this.#batchRead([...batchable.keys()], signal);
      for (const [id, indexes] of batchable) {
        const r = byId.get(id);
        if (r === undefined) single.push(...indexes);
        else for (const i of indexes) results[i] = r;
      }
    }
    await mapLimit(single, CONCURRENCY, async (i) => {
      const { id, ref } = items[i]!;
      try {
        results[i] = await this.#readOne(id, ref, signal);
      } catch (err) {
        results[i] = err instanceof Error ? err : new Error(String(err));
      }
    });
    signal?.throwIfAborted();
    return results;
  }

  /**
   * Reads current values of `ids` through BatchGetSecretValue. Ids the response does not account
   * for, and all ids once batch access is denied, are left out for a per-key read.
   */
  async #batchRead(ids: string[], signal: AbortSignal | undefined): Promise<Map<string, RemoteValue | Error>> {
    const out = new Map<string, RemoteValue | Error>();
    await mapLimit(chunk(ids, BATCH_SIZE), 4, async (group) => {
      if (this.#batchDenied) return;
      signal?.throwIfAborted();
      let nextToken: string | undefined;
      const entries: Array<{ Name?: string | undefined; ARN?: string | undefined; SecretString?: string | undefined; SecretBinary?: Uint8Array | undefined }> = [];
      const errors: Array<{ SecretId?: string | undefined; ErrorCode?: string | undefined; Message?: string | undefined }> = [];
      try {
        do {
          const page = await this.#client.send(
            new this.#sdk.BatchGetSecretValueCommand({ SecretIdList: group, ...(nextToken ? { NextToken: nextToken } : {}) }),
            { abortSignal: signal },
          );
          entries.push(...(page.SecretValues ?? []));
          errors.push(...(page.Errors ?? []));
          nextToken = page.NextToken;
        } while (nextToken);
      } catch (err) {
        if (signal?.aborted) throw abortReason(signal);
        const mapped = toProviderError(err, { service: 'SecretsManager', operation: 'BatchGetSecretValue' });
        if (mapped.kind === 'AccessDenied') {
          // No secretsmanager:BatchGetSecretValue permission: remember, and read key by key.
          this.#batchDenied = true;
          return;
        }
        for (const id of group) out.set(id, mapped);
        return;
      }
      for (const id of group) {
        const entry = entries.find((e) => entryMatchesId(e, id));
        if (entry) {
          try {
            out.set(id, entryValue(entry, id, 'BatchGetSecretValue'));
          } catch (err) {
            out.set(id, err as Error);
          }
          continue;
        }
        const error = errors.find((e) => e.SecretId === id) ?? errors.find((e) => e.SecretId !== undefined && entryMatchesId({ ARN: e.SecretId }, id));
        if (error) out.set(id, batchEntryError({ service: 'SecretsManager', operation: 'BatchGetSecretValue', key: id }, error.ErrorCode, error.Message));
      }
    });
    return out;
  }

  async findValues(query: FindQuery, signal?: AbortSignal): Promise<Map<string, RemoteValue>> {
    const matcher = query.name?.regexp !== undefined ? nameRegexpFilter(query.name.regexp) : undefined;
    const tags = Object.entries(query.tags ?? {});
    const namePrefix = this.#prefix + (query.path ?? '');
    if (!matcher && tags.length === 0 && namePrefix === '') {
      throw new ProviderError('InvalidRequest', 'find: name, tags or path is required for AWS SecretsManager');
    }

    // Filters narrow the listing server-side; they are prefix matches (and tag-key / tag-value
    // are not paired), so every candidate is checked exactly below.
    const filters: Filter[] = [];
    if (namePrefix !== '') filters.push({ Key: 'name', Values: [namePrefix] });
    for (const [k, v] of tags) {
      filters.push({ Key: 'tag-key', Values: [k] }, { Key: 'tag-value', Values: [v] });
    }
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.#send('ListSecrets', undefined, () =>
        this.#client.send(
          new this.#sdk.ListSecretsCommand({ MaxResults: 100, ...(filters.length > 0 ? { Filters: filters } : {}), ...(nextToken ? { NextToken: nextToken } : {}) }),
          { abortSignal: signal },
        ),
      signal,
      );
      for (const s of page.SecretList ?? []) {
        const name = s.Name;
        if (name === undefined || s.DeletedDate !== undefined) continue;
        if (!name.startsWith(namePrefix)) continue;
        if (matcher && !matcher(name)) continue;
        const secretTags = new Map((s.Tags ?? []).map((t) => [t.Key, t.Value]));
        if (!tags.every(([k, v]) => secretTags.get(k) === v)) continue;
        names.push(name);
      }
      nextToken = page.NextToken;
    } while (nextToken);

    // Names are read as listed (the prefix is already part of them).
    const unique = [...new Set(names)];
    const values = await this.#readMany(unique.map((name) => ({ id: name, ref: { key: name } })), signal);
    const out = new Map<string, RemoteValue>();
    unique.forEach((name, i) => {
      const v = values[i]!;
      if (v instanceof Error) {
        // Deleted between listing and reading, or has no current version: not part of the result.
        if (isNotFound(v)) return;
        throw v;
      }
      out.set(name, v);
    });
    return out;
  }

  // ---- PushSecret ----------------------------------------------------------------------------

  /** DescribeSecret, or undefined when the secret does not exist. */
  async #describe(name: string, signal: AbortSignal | undefined) {
    try {
      return await this.#send('DescribeSecret', name, () => this.#client.send(new this.#sdk.DescribeSecretCommand({ SecretId: name }), { abortSignal: signal }), signal);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** The current value, or undefined when the secret has none (or is gone). */
  async #currentValue(name: string, signal: AbortSignal | undefined): Promise<Uint8Array | undefined> {
    try {
      return (await this.#readOne(name, { key: name }, signal)).value;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async pushValue(req: PushRequest, signal?: AbortSignal): Promise<void> {
    const name = this.#prefix + req.ref.remoteKey;
    const spec = pushMetadataSpec(req.metadata, SM_METADATA_FIELDS, 'AWS SecretsManager');
    const format = spec?.secretPushFormat ?? 'binary';
    if (format !== 'binary' && format !== 'string') {
      throw new ProviderError('InvalidRequest', `spec.data[].metadata.spec.secretPushFormat (AWS SecretsManager): invalid secret push format ${JSON.stringify(String(format).slice(0, 50))} (binary or string)`);
    }
    const tags = stringMapField(spec, 'tags', 'AWS SecretsManager');
    if (Object.hasOwn(tags, MANAGED_BY_KEY)) {
      throw new ProviderError('InvalidRequest', `spec.data[].metadata.spec.tags (AWS SecretsManager): cannot specify a '${MANAGED_BY_KEY}' tag`);
    }
    const where = `AWS SecretsManager ${JSON.stringify(name)}`;
    const payload = (v: string | Uint8Array) => (format === 'string'
      ? { SecretString: typeof v === 'string' ? v : new TextDecoder().decode(v) }
      : { SecretBinary: typeof v === 'string' ? encoder.encode(v) : v });
    const described = await this.#describe(name, signal);
    if (!described) {
      const value = req.ref.property ? withProperty(undefined, req.ref.property, req.value, where) : req.value;
      const description = typeof spec?.description === 'string' && spec.description !== '' ? spec.description : `secret '${MANAGED_BY_KEY}:${MANAGED_BY_VALUE}'`;
      await this.#send('CreateSecret', name, () => this.#client.send(new this.#sdk.CreateSecretCommand({
        Name: name,
        ...payload(value),
        Description: description,
        // ESO's first version id, so a secret created by either reads the same.
        ClientRequestToken: INITIAL_VERSION,
        ...(typeof spec?.kmsKeyId === 'string' && spec.kmsKeyId !== '' ? { KmsKeyId: spec.kmsKeyId } : {}),
        Tags: [...Object.entries(tags).map(([Key, Value]) => ({ Key, Value })), { Key: MANAGED_BY_KEY, Value: MANAGED_BY_VALUE }],
      }), { abortSignal: signal }), signal);
      return;
    }
    const current = new Map((described.Tags ?? []).map((t) => [t.Key, t.Value]));
    if (current.get(MANAGED_BY_KEY) !== MANAGED_BY_VALUE) throw new RemoteNotOwnedError(where);
    const changedTags = Object.entries(tags).filter(([k, v]) => current.get(k) !== v);
    if (changedTags.length > 0) {
      await this.#send('TagResource', name, () => this.#client.send(new this.#sdk.TagResourceCommand({ SecretId: name, Tags: changedTags.map(([Key, Value]) => ({ Key, Value })) }), { abortSignal: signal }), signal);
    }
    const hasVersions = Object.keys(described.VersionIdsToStages ?? {}).length > 0;
    const existing = hasVersions ? await this.#currentValue(name, signal) : undefined;
    const next = req.ref.property ? encoder.encode(withProperty(existing, req.ref.property, req.value, where)) : req.value;
    // Unchanged: no new version (each PutSecretValue is a billed version in AWS).
    if (existing !== undefined && Buffer.from(existing).equals(Buffer.from(next))) return;
    await this.#send('PutSecretValue', name, () => this.#client.send(new this.#sdk.PutSecretValueCommand({
      SecretId: name,
      ...payload(next),
      ClientRequestToken: existing === undefined ? INITIAL_VERSION : randomUUID(),
    }), { abortSignal: signal }), signal);
  }

  async deleteValue(ref: PushRef, signal?: AbortSignal): Promise<void> {
    const name = this.#prefix + ref.remoteKey;
    const described = await this.#describe(name, signal);
    // Gone already, scheduled for deletion, or not ours: nothing to do (ESO returns quietly too).
    if (!described || described.DeletedDate !== undefined) return;
    if (!(described.Tags ?? []).some((t) => t.Key === MANAGED_BY_KEY && t.Value === MANAGED_BY_VALUE)) return;
    const force = this.#deletion?.forceDeleteWithoutRecovery === true;
    const window = this.#deletion?.recoveryWindowInDays;
    try {
      await this.#send('DeleteSecret', name, () => this.#client.send(new this.#sdk.DeleteSecretCommand({
        SecretId: described.ARN ?? name,
        ...(force ? { ForceDeleteWithoutRecovery: true } : {}),
        ...(!force && window !== undefined && window > 0 ? { RecoveryWindowInDays: window } : {}),
      }), { abortSignal: signal }), signal);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async remoteExists(ref: PushRef, signal?: AbortSignal): Promise<boolean> {
    const name = this.#prefix + ref.remoteKey;
    return (await this.#currentValue(name, signal)) !== undefined;
  }

  async validate(signal?: AbortSignal): Promise<void> {
    try {
      await this.#client.send(new this.#sdk.ListSecretsCommand({ MaxResults: 1 }), { abortSignal: signal });
    } catch (err) {
      if (signal?.aborted) throw abortReason(signal);
      const mapped = toProviderError(err, { service: 'SecretsManager', operation: 'ListSecrets' });
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
