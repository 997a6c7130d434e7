// Reads Google Cloud Secret Manager: AccessSecretVersion for a value, GetSecret for
// metadataPolicy: Fetch, ListSecrets + AccessSecretVersion for dataFrom.find.
//
// The channel and the service definition are Google's official client's
// (@google-cloud/secret-manager: its gRPC stub, protos and connection handling). Calls go through
// that stub directly rather than the generated methods because those drop the call's cancel()
// (their promise is re-wrapped), would log request and response bodies when the library's debug
// logging is switched on, and take credentials from google-auth-library's own HTTP stack; here
// each call carries the reconcile's AbortSignal, --provider-timeout as its gRPC deadline, and a
// token from ./credentials.ts. Answers are capped at 16 MiB by the channel's receive limit.
import { NotFoundError, ProviderError, isNotFound } from '../provider.ts';
import type { ApiCallDetail, FindQuery, ProviderClient, RemoteValue, RemoteValueRef } from '../provider.ts';
import { CallLimitError, formatMs, reportCall, type CallLimits } from '../common/http.ts';
import { mapLimit } from '../common/map-limit.ts';
import { nameRegexpFilter } from '../common/name-regexp.ts';
import { abortReason } from '../../shared-call.ts';
import { METRIC_PROVIDER, type AccessTokenSource } from './credentials.ts';
import { toProviderError } from './errors.ts';
import { listFilter, metadataJson, parentName, remoteKeyOf, secretName, versionName, type SecretScope } from './names.ts';

/** Parallel AccessSecretVersion calls of one dataFrom.find. */
const FIND_CONCURRENCY = 8;
/** ListSecrets page size, and how many pages one find may walk (250 × 100 = 25,000 secrets). */
const LIST_PAGE_SIZE = 250;
const MAX_LIST_PAGES = 100;

/** The parts of grpc-js this module uses (grpc-js itself is loaded through google-gax in index.ts). */
export interface GrpcMetadata {
  set(key: string, value: string): void;
}
interface ClientUnaryCall {
  cancel(): void;
}
type Callback<T> = (err: (Error & { code?: number }) | null, value?: T) => void;
type Unary<Req, Res> = (req: Req, md: GrpcMetadata, options: { deadline: number }, cb: Callback<Res>) => ClientUnaryCall;

interface SecretPb { name?: string; labels?: Record<string, string> | null; annotations?: Record<string, string> | null }
interface VersionPb { name?: string; createTime?: { seconds?: number | string | { toString(): string } | null; nanos?: number | null } | null }

/** The grpc-js stub of google.cloud.secretmanager.v1.SecretManagerService, as the library builds it. */
export interface SecretManagerStub {
  accessSecretVersion: Unary<{ name: string }, { name?: string; payload?: { data?: Uint8Array | null } | null }>;
  getSecret: Unary<{ name: string }, SecretPb>;
  listSecrets: Unary<{ parent: string; pageSize: number; pageToken?: string; filter?: string }, { secrets?: SecretPb[] | null; nextPageToken?: string | null }>;
  listSecretVersions: Unary<{ parent: string; pageSize: number; pageToken?: string; filter?: string }, { versions?: VersionPb[] | null; nextPageToken?: string | null }>;
}

export interface GcpReaderOptions {
  scope: SecretScope;
  tokens: AccessTokenSource;
  limits: CallLimits;
  /** A new grpc-js Metadata (of the grpc-js instance the library's channel uses). */
  newMetadata: () => GrpcMetadata;
  /** LatestOrFetch: when "latest" is disabled or destroyed, read the newest enabled version. */
  latestOrFetch: boolean;
  onApiCall?: ((operation: string, detail?: ApiCallDetail) => void) | undefined;
  onClose?: (() => Promise<void> | void) | undefined;
}

const DISABLED_OR_DESTROYED = /is in (DISABLED|DESTROYED) state/;

/** UNAUTHENTICATED with a given token: retried once with a fresh one, else `mapped` is thrown. */
class StaleTokenError extends Error {
  readonly token: string;
  readonly mapped: ProviderError;
  constructor(token: string, mapped: ProviderError) {
    super(mapped.message);
    this.token = token;
    this.mapped = mapped;
  }
}

export class SecretManagerReader implements ProviderClient {
  readonly #stub: SecretManagerStub;
  readonly #o: GcpReaderOptions;

  constructor(stub: SecretManagerStub, options: GcpReaderOptions) {
    this.#stub = stub;
    this.#o = options;
  }

  /**
   * One unary call: token, deadline, cancellation, metric and error mapping. `operation` is ESO's
   * call name (the metric's `call` label); `target` names the secret in errors.
   */
  async #call<Req, Res>(operation: string, target: string | undefined, method: Unary<Req, Res>, req: Req, signal: AbortSignal | undefined): Promise<Res> {
    try {
      return await this.#callOnce(operation, target, method, req, signal);
    } catch (err) {
      // A token refused as such (UNAUTHENTICATED) may just be stale: revoked, or the server forgot
      // it. Google's libraries then fetch a new one and retry once; so does this.
      if (!(err instanceof StaleTokenError)) throw err;
      this.#o.tokens.invalidate(err.token);
      try {
        return await this.#callOnce(operation, target, method, req, signal);
      } catch (again) {
        throw again instanceof StaleTokenError ? again.mapped : again;
      }
    }
  }

  async #callOnce<Req, Res>(operation: string, target: string | undefined, method: Unary<Req, Res>, req: Req, signal: AbortSignal | undefined): Promise<Res> {
    const token = await this.#o.tokens.token(signal);
    signal?.throwIfAborted();
    const md = this.#o.newMetadata();
    md.set('authorization', `Bearer ${token}`);
    const { deadlineMs, maxResponseBytes } = this.#o.limits;
    try {
      const out = await new Promise<Res>((resolve, reject) => {
        let call: ClientUnaryCall | undefined;
        const onAbort = () => {
          call?.cancel();
          reject(abortReason(signal!));
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        call = method.call(this.#stub, req, md, { deadline: Date.now() + deadlineMs }, (err, value) => {
          signal?.removeEventListener('abort', onAbort);
          if (err) reject(err);
          else resolve(value as Res);
        });
      });
      reportCall(this.#o.onApiCall, operation, METRIC_PROVIDER, 'success');
      return out;
    } catch (err) {
      if (signal?.aborted) throw abortReason(signal);
      reportCall(this.#o.onApiCall, operation, METRIC_PROVIDER, 'error');
      if ((err as { code?: unknown }).code === 4) {
        // DEADLINE_EXCEEDED of our own deadline: said as the other providers say it.
        throw new ProviderError('Unreachable', `GCP SecretManager ${operation}${target !== undefined ? ` ${JSON.stringify(target)}` : ''}: deadline of ${formatMs(deadlineMs)} exceeded`, { cause: new CallLimitError('DEADLINE_EXCEEDED', deadlineMs) });
      }
      const mapped = toProviderError(err, { operation, target }, maxResponseBytes);
      if ((err as { code?: unknown }).code === 16) throw new StaleTokenError(token, mapped);
      throw mapped;
    }
  }

  async getValue(ref: RemoteValueRef, signal?: AbortSignal): Promise<RemoteValue> {
    const { scope } = this.#o;
    if (ref.metadataPolicy === 'Fetch') {
      const s = await this.#call('GetSecret', ref.key, this.#stub.getSecret, { name: secretName(scope, ref.key) }, signal);
      return { value: new TextEncoder().encode(metadataJson(s.labels, s.annotations)) };
    }
    const label = ref.version ? `${ref.key}@${ref.version}` : ref.key;
    const name = versionName(scope, ref.key, ref.version);
    try {
      return payloadOf(await this.#call('AccessSecretVersion', label, this.#stub.accessSecretVersion, { name }, signal), label);
    } catch (err) {
      // ESO's LatestOrFetch: only for an unversioned read whose latest version is unusable.
      if (!this.#o.latestOrFetch || ref.version || !(err instanceof ProviderError) || !DISABLED_OR_DESTROYED.test(err.message)) throw err;
    }
    const newest = await this.#newestEnabledVersion(ref.key, signal);
    if (newest === undefined) throw new NotFoundError(`GCP SecretManager AccessSecretVersion ${JSON.stringify(label)}: no enabled version (secretVersionSelectionPolicy LatestOrFetch)`);
    return payloadOf(await this.#call('AccessSecretVersion', label, this.#stub.accessSecretVersion, { name: newest }, signal), label);
  }

  /** The name of the newest ENABLED version (by create time), as ESO's getLatestEnabledVersion. */
  async #newestEnabledVersion(key: string, signal: AbortSignal | undefined): Promise<string | undefined> {
    let best: { name: string; at: bigint } | undefined;
    let pageToken: string | undefined;
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const out = await this.#call('ListSecretVersions', key, this.#stub.listSecretVersions, {
        parent: secretName(this.#o.scope, key), pageSize: LIST_PAGE_SIZE, filter: 'state:ENABLED', ...(pageToken ? { pageToken } : {}),
      }, signal);
      for (const v of out.versions ?? []) {
        if (!v.name) continue;
        const at = BigInt(String(v.createTime?.seconds ?? 0)) * 1_000_000_000n + BigInt(v.createTime?.nanos ?? 0);
        if (!best || at > best.at) best = { name: v.name, at };
      }
      pageToken = out.nextPageToken || undefined;
      if (!pageToken) return best?.name;
    }
    throw new ProviderError('InvalidRequest', `GCP SecretManager ListSecretVersions ${JSON.stringify(key)}: more than ${MAX_LIST_PAGES * LIST_PAGE_SIZE} enabled versions`);
  }

  async findValues(query: FindQuery, signal?: AbortSignal): Promise<Map<string, RemoteValue>> {
    // ESO: find.name (with path as a name filter) takes precedence; tags otherwise; one is required.
    const byName = query.name?.regexp !== undefined;
    if (!byName && Object.keys(query.tags ?? {}).length === 0) {
      throw new ProviderError('InvalidRequest', 'find: name.regexp or tags is required for GCP Secret Manager');
    }
    const matcher = byName ? nameRegexpFilter(query.name!.regexp) : undefined;
    const filter = listFilter(byName ? undefined : query.tags, query.path);
    const parent = parentName(this.#o.scope);
    const keys: string[] = [];
    let pageToken: string | undefined;
    for (let page = 0; ; page++) {
      if (page === MAX_LIST_PAGES) {
        throw new ProviderError('InvalidRequest', `find: more than ${MAX_LIST_PAGES * LIST_PAGE_SIZE} secrets listed under ${parent}; narrow it with path or tags`);
      }
      const out = await this.#call('ListSecrets', parent, this.#stub.listSecrets, {
        parent, pageSize: LIST_PAGE_SIZE, ...(filter ? { filter } : {}), ...(pageToken ? { pageToken } : {}),
      }, signal);
      for (const s of out.secrets ?? []) {
        if (!s.name) continue;
        const key = remoteKeyOf(s.name);
        // name:PATH is a substring match; ESO keeps only names that start with the path.
        if (query.path && !key.startsWith(query.path)) continue;
        if (matcher && !matcher(key)) continue;
        keys.push(key);
      }
      pageToken = out.nextPageToken || undefined;
      if (!pageToken) break;
    }
    const unique = [...new Set(keys)];
    const values = await mapLimit(unique, FIND_CONCURRENCY, async (key) => {
      try {
        return await this.getValue({ key }, signal);
      } catch (err) {
        // Deleted between listing and reading, or without any version: not part of the result.
        if (isNotFound(err)) return undefined;
        throw err;
      }
    });
    signal?.throwIfAborted();
    const result = new Map<string, RemoteValue>();
    unique.forEach((key, i) => {
      const v = values[i];
      if (v) result.set(key, v);
    });
    return result;
  }

  async validate(signal?: AbortSignal): Promise<void> {
    const parent = parentName(this.#o.scope);
    try {
      await this.#call('ListSecrets', parent, this.#stub.listSecrets, { parent, pageSize: 1 }, signal);
    } catch (err) {
      // Denied means Google authenticated the caller: the store works for the secrets it may read.
      if (err instanceof ProviderError && err.kind === 'AccessDenied') return;
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.#o.onClose?.();
  }
}

function payloadOf(out: { payload?: { data?: Uint8Array | null } | null }, label: string): RemoteValue {
  const data = out.payload?.data;
  // ESO refuses an empty payload (protobuf leaves empty bytes nil in Go) with this error.
  if (!data || data.length === 0) throw new ProviderError('InvalidRequest', `GCP SecretManager AccessSecretVersion ${JSON.stringify(label)}: invalid secret received, the version has no payload`);
  return { value: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}
