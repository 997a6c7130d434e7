// The KV client of one store: reads (v1 and v2, versions, custom metadata), find (recursive LIST
// by path, name regexp, custom_metadata tags), validation, and PushSecret's writes (ESO's
// managed-by custom metadata, check-and-set when the store requires it), with the store's login.
import { NotFoundError, ProviderError, isNotFound } from '../provider.ts';
import type { FindQuery, ProviderClient, PushRef, PushRequest, RemoteValue, RemoteValueRef } from '../provider.ts';
import { MANAGED_BY_KEY, MANAGED_BY_VALUE, RemoteNotOwnedError } from '../common/push.ts';
import { nameRegexpFilter } from '../common/name-regexp.ts';
import type { AuthPlan } from './auth.ts';
import { trimSlashes } from '../common/slashes.ts';
import type { VaultKVStoreVersion } from './config.ts';
import { isSealed, vaultHttpError } from './errors.ts';
import type { VaultCallSite } from './errors.ts';
import { goJsonMarshal } from '../../go/json.ts';
import { goPrintValue } from './gojson.ts';
import type { CallOptions, VaultResponse, VaultTransport } from './http.ts';
import { dataPath, metadataPath } from './paths.ts';
import type { LoginCache } from './tokens.ts';
import { SharedCall } from '../../shared-call.ts';

const enc = new TextEncoder();
/** Parallel reads during find; Vault handles far more, but one store should not flood it. */
const FIND_CONCURRENCY = 8;
/**
 * Most entries (names and folders) one find may list. The server is tenant-chosen: a hostile one
 * could answer every LIST with one more folder and keep a worker listing forever, each call
 * within its deadline. 100,000 names is far more than one Secret (≤ 1 MiB) can hold.
 */
export const MAX_FIND_ENTRIES = 100_000;
/** The longest a whole find listing may take, all its LIST calls together. */
export const FIND_DEADLINE_MS = 120_000;
/** The system fields of a KV v2 metadata answer that ESO 2.9 puts next to custom_metadata. */
export const SYSTEM_METADATA_KEYS = ['created_time', 'current_version', 'delete_version_after'] as const;

export interface VaultKvClientOptions {
  transport: VaultTransport;
  auth: AuthPlan;
  logins: LoginCache;
  /** The KV mount (spec.provider.vault.path), without slashes. */
  mount: string | undefined;
  version: VaultKVStoreVersion;
  /** spec.provider.vault.checkAndSet.required: every KV v2 write carries a cas version. */
  checkAndSetRequired?: boolean | undefined;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>, signal?: AbortSignal): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      // Cancelled: no further calls are started (those running end with the signal themselves).
      signal?.throwIfAborted();
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** KV v2 answers a deleted or destroyed version with 404 and its metadata. */
function isDeletedVersion(body: Record<string, unknown> | undefined): boolean {
  const meta = (body?.data as { metadata?: { deletion_time?: unknown; destroyed?: unknown } } | null | undefined)?.metadata;
  return !!meta && ((typeof meta.deletion_time === 'string' && meta.deletion_time !== '') || meta.destroyed === true);
}

export class VaultKvClient implements ProviderClient {
  private readonly t: VaultTransport;
  private readonly auth: AuthPlan;
  private readonly logins: LoginCache;
  private readonly mount: string | undefined;
  private readonly version: VaultKVStoreVersion;
  private readonly checkAndSetRequired: boolean;
  private readonly inflight = new Map<string, SharedCall<RemoteValue>>();
  /** Reads answered by an identical read already in flight (for tests and metrics). */
  coalescedReads = 0;

  constructor(o: VaultKvClientOptions) {
    this.t = o.transport;
    this.auth = o.auth;
    this.logins = o.logins;
    this.mount = o.mount;
    this.version = o.version;
    this.checkAndSetRequired = o.checkAndSetRequired === true;
  }

  private async token(signal: AbortSignal | undefined): Promise<string> {
    return this.auth.kind === 'token' ? this.auth.token : this.logins.token(this.auth, this.t, signal);
  }

  /** True when Vault refuses the token itself (lookup-self denied), not just one path. */
  private async tokenRejected(token: string, signal: AbortSignal | undefined): Promise<boolean> {
    const res = await this.t.send({ operation: 'LookupSelf', path: 'auth/token/lookup-self' }, 'GET', 'auth/token/lookup-self', { token, signal });
    return res.status === 403 || res.status === 401;
  }

  private rejectedToken(site: VaultCallSite, res: VaultResponse): ProviderError {
    const how = this.auth.kind === 'token' ? 'the token from tokenSecretRef' : `the token from the ${this.auth.method} login`;
    return new ProviderError('BadCredentials', `Vault ${site.operation} ${JSON.stringify(site.path)}: ${how} is invalid, expired or revoked (HTTP ${res.status})`);
  }

  /**
   * Sends a request with the store's token. A 403 is looked into: a rejected token is
   * BadCredentials (after one fresh login, for login methods), a refused path stays a 403.
   */
  private async authed(site: VaultCallSite, method: string, path: string, opts: CallOptions = {}): Promise<VaultResponse> {
    const signal = opts.signal;
    const token = await this.token(signal);
    const res = await this.t.send(site, method, path, { ...opts, token });
    if (res.status !== 403 || isSealed(res.errors)) return res;
    if (!(await this.tokenRejected(token, signal))) return res;
    if (this.auth.kind === 'token') throw this.rejectedToken(site, res);
    this.logins.invalidate(this.auth.cacheKey, token);
    const fresh = await this.token(signal);
    const again = await this.t.send(site, method, path, { ...opts, token: fresh });
    if (again.status === 403 && !isSealed(again.errors) && (await this.tokenRejected(fresh, signal))) throw this.rejectedToken(site, again);
    return again;
  }

  /**
   * One authenticated call to any path, with the store's auth and token handling (the
   * VaultDynamicSecret generator: a PKI certificate, database credentials). A non-2xx answer
   * throws its ProviderError; 204 (nothing to say) returns no body.
   */
  async request(method: string, path: string, opts: { body?: unknown; query?: Record<string, string | undefined>; signal?: AbortSignal | undefined } = {}): Promise<Record<string, unknown> | undefined> {
    const site: VaultCallSite = { operation: `Generate${method === 'GET' ? 'Read' : 'Write'}`, path };
    const res = await this.authed(site, method, path, { body: opts.body, query: opts.query, signal: opts.signal });
    if (res.status < 200 || res.status >= 300) throw vaultHttpError(site, res.status, res.errors);
    return res.body;
  }

  /** One read per key and version in flight, shared by its callers; aborted when all have left. */
  getValue(ref: RemoteValueRef, signal?: AbortSignal): Promise<RemoteValue> {
    const fetch = ref.metadataPolicy === 'Fetch';
    const id = `${fetch ? 'M' : 'D'}\u0000${ref.version ?? ''}\u0000${ref.key}`;
    const running = this.inflight.get(id);
    if (running) {
      this.coalescedReads++;
      return running.join(signal);
    }
    const call = new SharedCall((shared) => (fetch ? this.readMetadataJson(ref.key, shared) : this.readData(ref.key, ref.version, shared)));
    const clear = () => this.inflight.get(id) === call && this.inflight.delete(id);
    call.onAbandon(clear);
    call.promise.then(clear, clear);
    this.inflight.set(id, call);
    return call.join(signal);
  }

  private async readData(key: string, version: string | undefined, signal: AbortSignal | undefined): Promise<RemoteValue> {
    return { value: enc.encode(goJsonMarshal(await this.readDataObject(key, version, signal))) };
  }

  /** The secret's data as Vault answers it (v2: the inner data); NotFoundError when absent. */
  private async readDataObject(key: string, version: string | undefined, signal: AbortSignal | undefined): Promise<unknown> {
    const path = dataPath(this.mount, this.version, key);
    const site = { operation: 'ReadSecretData', path };
    if (version !== undefined && version !== '' && !/^\d+$/.test(version)) {
      throw new ProviderError('InvalidRequest', `Vault ReadSecretData ${JSON.stringify(path)}: version ${JSON.stringify(version)} must be a KV v2 version number`);
    }
    const res = await this.authed(site, 'GET', path, { query: { version: version || undefined }, signal });
    if (res.status === 404 && isDeletedVersion(res.body)) {
      throw new NotFoundError(`Vault ReadSecretData ${JSON.stringify(path)}${version ? ` version ${version}` : ''}: not found (deleted or destroyed)`);
    }
    if (res.status < 200 || res.status >= 300) throw vaultHttpError(site, res.status, res.errors);
    let data = res.body?.data as unknown;
    if (this.version === 'v2') {
      if (!data || typeof data !== 'object' || !('data' in data)) {
        throw new ProviderError('Unknown', `Vault ReadSecretData ${JSON.stringify(path)}: the answer has no data field: is the mount KV v1? (set spec.provider.vault.version: v1)`);
      }
      data = (data as { data: unknown }).data;
      // A deleted or destroyed version answers with data: null.
      if (data === null) throw new NotFoundError(`Vault ReadSecretData ${JSON.stringify(path)}${version ? ` version ${version}` : ''}: not found (deleted or destroyed)`);
    }
    if (data === null || data === undefined) throw new NotFoundError(`Vault ReadSecretData ${JSON.stringify(path)}: not found`);
    return data;
  }

  /**
   * The metadata of a KV v2 secret as ESO reads it (client_get.go readSecretMetadata): the system
   * fields of SYSTEM_METADATA_KEYS, then custom_metadata over them (a custom key of the same name
   * wins), all as strings (%v of what Vault's Go client decoded: numbers keep their JSON text).
   * Find by tags matches on this same map, as ESO's does.
   */
  private async readMetadata(key: string, signal: AbortSignal | undefined): Promise<Record<string, string>> {
    if (this.version === 'v1') throw new ProviderError('InvalidRequest', 'Vault: metadataPolicy Fetch and find by tags need a KV v2 store (spec.provider.vault.version is v1)');
    const path = metadataPath(this.mount, this.version, key);
    const site = { operation: 'ReadSecretData', path };
    const res = await this.authed(site, 'GET', path, { signal });
    if (res.status < 200 || res.status >= 300) throw vaultHttpError(site, res.status, res.errors);
    const data = res.body?.data as Record<string, unknown> | undefined;
    const custom = data?.custom_metadata;
    const out: Record<string, string> = {};
    for (const k of SYSTEM_METADATA_KEYS) {
      const v = data?.[k];
      if (v !== undefined && v !== null) out[k] = goPrintValue(v);
    }
    if (custom && typeof custom === 'object') for (const [k, v] of Object.entries(custom)) out[k] = goPrintValue(v);
    return out;
  }

  private async readMetadataJson(key: string, signal: AbortSignal | undefined): Promise<RemoteValue> {
    return { value: enc.encode(goJsonMarshal(await this.readMetadata(key, signal))) };
  }

  /** Every secret name under `prefix` (ending in "/" or empty), recursively, relative to the mount. */
  private async list(prefix: string, signal: AbortSignal | undefined, budget: { left: number; until: number } = { left: MAX_FIND_ENTRIES, until: Date.now() + FIND_DEADLINE_MS }): Promise<string[]> {
    const path = this.version === 'v2' ? `${this.mount}/metadata/${prefix}` : `${this.mount}/${prefix}`;
    const site = { operation: 'ListSecrets', path };
    // Each LIST has its own deadline; a server answering an endless chain of folders must not hold
    // the worker for 100,000 of them.
    if (Date.now() > budget.until) {
      throw new ProviderError('InvalidRequest', `Vault ListSecrets ${JSON.stringify(path)}: find took longer than ${FIND_DEADLINE_MS / 1000} s; narrow dataFrom.find.path`);
    }
    const res = await this.authed(site, 'GET', path.replace(/\/$/, ''), { query: { list: 'true' }, signal });
    if (res.status === 404) return []; // nothing under this prefix
    if (res.status < 200 || res.status >= 300) throw vaultHttpError(site, res.status, res.errors);
    const keys = ((res.body?.data as { keys?: unknown } | undefined)?.keys ?? []) as unknown[];
    const names: string[] = [];
    const folders: string[] = [];
    budget.left -= keys.length;
    if (budget.left < 0) {
      throw new ProviderError('InvalidRequest', `Vault ListSecrets ${JSON.stringify(path)}: find lists more than ${MAX_FIND_ENTRIES} entries; narrow dataFrom.find.path`);
    }
    for (const k of keys) {
      if (typeof k !== 'string') continue;
      if (k.endsWith('/')) folders.push(prefix + k);
      else names.push(prefix + k);
    }
    const nested = await mapLimit(folders, FIND_CONCURRENCY, (f) => this.list(f, signal, budget), signal);
    return names.concat(...nested);
  }

  async findValues(query: FindQuery, signal?: AbortSignal): Promise<Map<string, RemoteValue>> {
    if (this.version === 'v1' && query.tags && Object.keys(query.tags).length > 0) {
      throw new ProviderError('InvalidRequest', 'Vault: find by tags needs a KV v2 store (spec.provider.vault.version is v1)');
    }
    if (!this.mount) throw new ProviderError('InvalidRequest', 'Vault: dataFrom.find needs spec.provider.vault.path (the KV mount to list)');
    const prefix = query.path ? `${trimSlashes(query.path)}/` : '';
    let candidates = await this.list(prefix, signal);
    // As ESO: a name regexp, when given, is the only filter; tags apply otherwise.
    if (query.name?.regexp !== undefined) {
      const matches = nameRegexpFilter(query.name.regexp);
      candidates = candidates.filter(matches);
    } else if (query.tags && Object.keys(query.tags).length > 0) {
      const tags = Object.entries(query.tags);
      const metas = await mapLimit(candidates, FIND_CONCURRENCY, (n) => this.readMetadata(n, signal).catch((e: unknown) => (isNotFound(e) ? undefined : Promise.reject(e))), signal);
      candidates = candidates.filter((_, i) => {
        const m = metas[i];
        return m !== undefined && tags.every(([k, v]) => m[k] === v);
      });
    }
    const values = await mapLimit(candidates, FIND_CONCURRENCY, (n) => this.getValue({ key: n }, signal).catch((e: unknown) => (isNotFound(e) ? undefined : Promise.reject(e))), signal);
    const out = new Map<string, RemoteValue>();
    candidates.forEach((n, i) => {
      const v = values[i];
      if (v) out.set(n, v);
    });
    return out;
  }

  // ---- PushSecret ----------------------------------------------------------------------------

  /** The secret's fields, or undefined when it does not exist. */
  private async readExisting(key: string, signal: AbortSignal | undefined): Promise<Record<string, unknown> | undefined> {
    let data: unknown;
    try {
      data = await this.readDataObject(key, undefined, signal);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) return {};
    return { ...(data as Record<string, unknown>) };
  }

  /**
   * Whether ESO's managed-by mark is on the secret: in KV v2 its custom_metadata, in KV v1 (no
   * metadata) a custom_metadata field of the secret itself, as ESO writes it there.
   */
  private async ownedByUs(key: string, existing: Record<string, unknown>, signal: AbortSignal | undefined): Promise<{ owned: boolean; currentVersion: number }> {
    if (this.version === 'v1') {
      const custom = existing.custom_metadata as Record<string, unknown> | undefined;
      return { owned: typeof custom === 'object' && custom !== null && custom[MANAGED_BY_KEY] === MANAGED_BY_VALUE, currentVersion: 0 };
    }
    const path = metadataPath(this.mount, this.version, key);
    const site = { operation: 'ReadSecretData', path };
    const res = await this.authed(site, 'GET', path, { signal });
    if (res.status === 404) return { owned: false, currentVersion: 0 };
    if (res.status < 200 || res.status >= 300) throw vaultHttpError(site, res.status, res.errors);
    const data = res.body?.data as { custom_metadata?: Record<string, unknown> | null; current_version?: unknown } | undefined;
    const version = typeof data?.current_version === 'number' ? data.current_version : 1;
    return { owned: data?.custom_metadata?.[MANAGED_BY_KEY] === MANAGED_BY_VALUE, currentVersion: version };
  }

  private async write(site: VaultCallSite, method: 'POST' | 'DELETE', path: string, body: unknown, signal: AbortSignal | undefined): Promise<void> {
    const res = await this.authed(site, method, path, { ...(body !== undefined ? { body } : {}), signal });
    if (res.status === 404 && method === 'DELETE') return;
    if (res.status < 200 || res.status >= 300) throw vaultHttpError(site, res.status, res.errors);
  }

  async pushValue(req: PushRequest, signal?: AbortSignal): Promise<void> {
    const key = req.ref.remoteKey;
    const property = req.ref.property ?? '';
    const path = dataPath(this.mount, this.version, key);
    const where = `Vault ${JSON.stringify(path)}`;
    const existing = await this.readExisting(key, signal);
    let currentVersion = 0;
    if (existing) {
      const own = await this.ownedByUs(key, existing, signal);
      if (!own.owned) throw new RemoteNotOwnedError(where);
      currentVersion = own.currentVersion;
      if (this.version === 'v1') delete existing.custom_metadata;
    }
    const text = new TextDecoder().decode(req.value);
    let next: Record<string, unknown>;
    if (property !== '') {
      // Unchanged: no new version.
      if (existing && existing[property] === text) return;
      next = { ...(existing ?? {}), [property]: text };
    } else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw new ProviderError('InvalidRequest', `${where}: a push without remoteRef.property needs a JSON object (push the whole Secret, or set a property)`);
      }
      next = parsed as Record<string, unknown>;
      if (existing && goJsonMarshal(existing) === goJsonMarshal(next)) return;
    }
    const mark = { [MANAGED_BY_KEY]: MANAGED_BY_VALUE };
    if (this.version === 'v1') {
      await this.write({ operation: 'WriteSecretData', path }, 'POST', path, { ...next, custom_metadata: mark }, signal);
      return;
    }
    const metaPath = metadataPath(this.mount, this.version, key);
    await this.write({ operation: 'WriteSecretData', path: metaPath }, 'POST', metaPath, { custom_metadata: mark }, signal);
    // check-and-set: 0 creates only; otherwise the version we read, so a concurrent writer wins
    // and this push fails (and is retried) rather than overwriting it.
    const options = this.checkAndSetRequired ? { options: { cas: existing ? currentVersion : 0 } } : {};
    await this.write({ operation: 'WriteSecretData', path }, 'POST', path, { data: next, ...options }, signal);
  }

  async deleteValue(ref: PushRef, signal?: AbortSignal): Promise<void> {
    const key = ref.remoteKey;
    const path = dataPath(this.mount, this.version, key);
    const existing = await this.readExisting(key, signal);
    if (!existing) return;
    const own = await this.ownedByUs(key, existing, signal);
    // Not ours: left as it is (ESO returns quietly too).
    if (!own.owned) return;
    const property = ref.property ?? '';
    if (property !== '') {
      delete existing[property];
      if (this.version === 'v1' && Object.keys(existing).length === 1) delete existing.custom_metadata;
      if (Object.keys(existing).length > 0) {
        const body = this.version === 'v2'
          ? { data: existing, ...(this.checkAndSetRequired ? { options: { cas: own.currentVersion } } : {}) }
          : existing;
        await this.write({ operation: 'DeleteSecret', path }, 'POST', path, body, signal);
        return;
      }
    }
    await this.write({ operation: 'DeleteSecret', path }, 'DELETE', path, undefined, signal);
    if (this.version === 'v2') {
      const metaPath = metadataPath(this.mount, this.version, key);
      await this.write({ operation: 'DeleteSecret', path: metaPath }, 'DELETE', metaPath, undefined, signal);
    }
  }

  async remoteExists(ref: PushRef, signal?: AbortSignal): Promise<boolean> {
    const existing = await this.readExisting(ref.remoteKey, signal);
    if (!existing) return false;
    if (!ref.property) return true;
    const v = existing[ref.property];
    return v !== undefined && v !== null;
  }

  async validate(signal?: AbortSignal): Promise<void> {
    const token = await this.token(signal);
    const site = { operation: 'LookupSelf', path: 'auth/token/lookup-self' };
    const res = await this.t.send(site, 'GET', site.path, { token, signal });
    if (res.status >= 200 && res.status < 300) return;
    if ((res.status === 403 || res.status === 401) && !isSealed(res.errors)) {
      if (this.auth.kind === 'login') this.logins.invalidate(this.auth.cacheKey, token);
      throw this.rejectedToken(site, res);
    }
    throw vaultHttpError(site, res.status, res.errors);
  }

  async close(): Promise<void> {
    this.t.close();
  }
}
