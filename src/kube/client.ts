// A small Kubernetes API client over node:https.
//
// Configuration and authentication (kubeconfig, in-cluster service account; exec plugins through
// @kubernetes/client-node) come from config.ts; requests, watch streams and patches are plain
// HTTP so that the informer controls every byte of a watch and the client stays light.
import https from 'node:https';
import http from 'node:http';
import { loadClusterAuth, type ClusterAuth } from './config.ts';
import type { KubeObject, ObjectList, ResourceType, Status, WatchEvent } from './types.ts';
import { timerDelayMs } from '../api/duration.ts';
import { TokenBucket } from '../token-bucket.ts';
import { clientMetrics } from './metrics.ts';
import { stripBrackets, viaProxy } from '../http-proxy.ts';

export interface KubeClientOptions {
  /** Path of a kubeconfig file; the in-cluster service account when absent. */
  kubeconfig?: string | undefined;
  /** Client-side rate limit, as client-go's QPS and Burst. */
  qps?: number;
  burst?: number;
  /** Field manager for server-side apply and managed fields. */
  fieldManager?: string;
  userAgent?: string;
}

/** An error answered by the API server, carrying its Status. */
export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly status: Status | undefined;
  constructor(code: number, status: Status | undefined, method: string, path: string) {
    const msg = status?.message ?? `HTTP ${code}`;
    super(`${method} ${path}: ${msg}`);
    this.name = 'ApiError';
    this.code = code;
    this.reason = status?.reason ?? '';
    this.status = status;
  }
}

export const isNotFound = (e: unknown): boolean => e instanceof ApiError && e.code === 404;
export const isConflict = (e: unknown): boolean => e instanceof ApiError && e.code === 409;
export const isAlreadyExists = (e: unknown): boolean => e instanceof ApiError && e.code === 409 && e.reason === 'AlreadyExists';
export const isGone = (e: unknown): boolean => e instanceof ApiError && e.code === 410;

export type PatchType = 'merge' | 'strategic' | 'json' | 'apply';
const patchContentType: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
};

/**
 * Options every call takes: `signal` cancels the call (the reconcile's deadline, shutdown). An
 * aborted call rejects at once with the signal's reason and destroys its socket, so a cancelled
 * reconcile does not hold a connection of the pool.
 */
export interface CallOptions {
  signal?: AbortSignal | undefined;
}

/** Options of a create, update or patch. */
export interface WriteOptions extends CallOptions {
  /**
   * Ask for the written object's metadata only (PartialObjectMetadata; the whole object from a
   * server that cannot convert): for a caller that reads nothing of the answer but its metadata,
   * such as the resourceVersion of its own write. Spares the server encoding and the client
   * parsing the rest. The answer is typed as the object but carries apiVersion, kind and
   * metadata only.
   */
  metadataOnly?: boolean | undefined;
}

export interface ListOptions extends CallOptions {
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
  limit?: number | undefined;
  continue?: string | undefined;
  resourceVersion?: string | undefined;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan' | undefined;
  /** Names, labels and annotations only (PartialObjectMetadata): a Secret's data never travels. */
  metadataOnly?: boolean | undefined;
}

export interface WatchOptions extends CallOptions {
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
  resourceVersion?: string | undefined;
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
  /** As ListOptions.metadataOnly: events carry PartialObjectMetadata. */
  metadataOnly?: boolean | undefined;
  /** Called once the server has accepted the watch (response headers received). */
  onOpen?: () => void;
  /**
   * Abort the stream when nothing (not even a bookmark) arrives for this long: a peer that
   * vanished without closing the connection must not leave the watch hanging forever.
   */
  idleTimeoutMs?: number;
}

type Query = Record<string, string | number | boolean | undefined>;

interface RequestOptions {
  query?: Query | undefined;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal | undefined;
  /** The Accept header; application/json when absent. */
  accept?: string | undefined;
}

/**
 * Asks the apiserver for objects as meta.k8s.io/v1 PartialObjectMetadata(List): the metadata of
 * each object and nothing else, so watching every Secret of a cluster costs names, not values.
 */
const ACCEPT_METADATA_LIST = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';
const ACCEPT_METADATA = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1';
/** The answer to a write as metadata, or whole from a server that cannot convert it. */
const ACCEPT_WRITTEN_METADATA = `${ACCEPT_METADATA},application/json`;
const writtenAccept = (opts: WriteOptions): string | undefined => (opts.metadataOnly ? ACCEPT_WRITTEN_METADATA : undefined);

/**
 * The agent of one apiserver with one set of TLS settings: its pool needs no per-request name.
 * node:https names a connection by the request's host, port and TLS options, the CA certificate,
 * client certificate and key included (Buffers decoded to text and joined, at every request);
 * that was a tenth of the client's CPU per request.
 */
class OneServerAgent extends https.Agent {
  override getName(): string {
    return 'apiserver';
  }
}

export class KubeClient {
  readonly server: string;
  readonly fieldManager: string;
  private readonly auth: ClusterAuth;
  private readonly agent: https.Agent | http.Agent;
  private readonly limiter: TokenBucket;
  private readonly userAgent: string;
  /** The server URL taken apart once: every request names its host and path without a URL parse. */
  private readonly origin: ServerOrigin;

  private constructor(auth: ClusterAuth, agent: https.Agent | http.Agent, opts: KubeClientOptions) {
    this.auth = auth;
    this.server = withoutTrailingSlashes(auth.server);
    this.origin = serverOrigin(this.server);
    this.agent = agent;
    this.fieldManager = opts.fieldManager ?? 'tessera';
    this.userAgent = opts.userAgent ?? 'tessera';
    this.limiter = new TokenBucket(opts.qps ?? 50, opts.burst ?? 100);
  }

  static async create(opts: KubeClientOptions = {}): Promise<KubeClient> {
    const auth = await loadClusterAuth(opts.kubeconfig);
    const proxy = auth.proxy ? viaProxy(auth.proxy) : {};
    const agent = auth.server.startsWith('https:')
      ? new OneServerAgent({ keepAlive: true, maxSockets: 64, ca: auth.ca, cert: auth.cert, key: auth.key, rejectUnauthorized: auth.rejectUnauthorized, servername: auth.servername, ...proxy })
      : new http.Agent({ keepAlive: true, maxSockets: 64, ...proxy });
    return new KubeClient(auth, agent, opts);
  }

  /** A copy of this client with another field manager (same connection pool and limiter). */
  withFieldManager(fieldManager: string): KubeClient {
    const c = Object.create(KubeClient.prototype) as KubeClient;
    Object.assign(c, this, { fieldManager });
    return c;
  }

  close(): void {
    this.agent.destroy();
  }

  // -------------------------------------------------------------------------------------------
  // Paths

  static path(rt: ResourceType, namespace?: string, name?: string, subresource?: string): string {
    let p = rt.group ? `/apis/${rt.group}/${rt.version}` : `/api/${rt.version}`;
    if (rt.namespaced && namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
    p += `/${rt.plural}`;
    if (name) p += `/${encodeURIComponent(name)}`;
    if (subresource) p += `/${subresource}`;
    return p;
  }

  // -------------------------------------------------------------------------------------------
  // Typed verbs

  async get<T extends KubeObject>(rt: ResourceType, namespace: string | undefined, name: string, opts: CallOptions = {}): Promise<T> {
    return this.request<T>('GET', KubeClient.path(rt, namespace, name), { signal: opts.signal });
  }

  /** Like get, but undefined instead of a 404 error. */
  async tryGet<T extends KubeObject>(rt: ResourceType, namespace: string | undefined, name: string, opts: CallOptions = {}): Promise<T | undefined> {
    try {
      return await this.get<T>(rt, namespace, name, opts);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async list<T extends KubeObject>(rt: ResourceType, namespace: string | undefined, opts: ListOptions = {}): Promise<ObjectList<T>> {
    const { signal, metadataOnly, ...query } = opts;
    return this.request<ObjectList<T>>('GET', KubeClient.path(rt, namespace), { query: { ...query }, signal, accept: metadataOnly ? ACCEPT_METADATA_LIST : undefined });
  }

  async create<T extends KubeObject>(rt: ResourceType, obj: T, opts: WriteOptions & { dryRun?: boolean } = {}): Promise<T> {
    return this.request<T>('POST', KubeClient.path(rt, obj.metadata?.namespace), {
      body: obj,
      query: { fieldManager: this.fieldManager, dryRun: opts.dryRun ? 'All' : undefined },
      signal: opts.signal,
      accept: writtenAccept(opts),
    });
  }

  async update<T extends KubeObject>(rt: ResourceType, obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.request<T>('PUT', KubeClient.path(rt, obj.metadata?.namespace, obj.metadata?.name), {
      body: obj,
      query: { fieldManager: this.fieldManager },
      signal: opts.signal,
      accept: writtenAccept(opts),
    });
  }

  async updateStatus<T extends KubeObject>(rt: ResourceType, obj: T, opts: CallOptions = {}): Promise<T> {
    return this.request<T>('PUT', KubeClient.path(rt, obj.metadata?.namespace, obj.metadata?.name, 'status'), {
      body: obj,
      query: { fieldManager: this.fieldManager },
      signal: opts.signal,
    });
  }

  async patch<T extends KubeObject>(
    rt: ResourceType,
    namespace: string | undefined,
    name: string,
    type: PatchType,
    patch: unknown,
    opts: WriteOptions & { subresource?: string; force?: boolean } = {},
  ): Promise<T> {
    return this.request<T>('PATCH', KubeClient.path(rt, namespace, name, opts.subresource), {
      body: patch,
      contentType: patchContentType[type],
      query: { fieldManager: this.fieldManager, force: type === 'apply' ? (opts.force ?? true) : undefined },
      signal: opts.signal,
      accept: writtenAccept(opts),
    });
  }

  /** Server-side apply of a full intent object owned by this client's field manager. */
  async apply<T extends KubeObject>(rt: ResourceType, obj: T, opts: CallOptions & { subresource?: string; force?: boolean } = {}): Promise<T> {
    return this.patch<T>(rt, obj.metadata?.namespace, obj.metadata?.name ?? '', 'apply', obj, opts);
  }

  async delete(
    rt: ResourceType,
    namespace: string | undefined,
    name: string,
    opts: CallOptions & { propagationPolicy?: 'Foreground' | 'Background' | 'Orphan'; preconditions?: { uid?: string; resourceVersion?: string } } = {},
  ): Promise<void> {
    const { signal, ...deleteOptions } = opts;
    const body = { kind: 'DeleteOptions', apiVersion: 'v1', ...deleteOptions };
    await this.request('DELETE', KubeClient.path(rt, namespace, name), { body, signal });
  }

  /**
   * Read-modify-write of the status subresource, retried on conflict with a fresh read: the
   * mutation is re-applied to the latest object, as client-go's RetryOnConflict does.
   * Returns undefined when the object is gone.
   */
  async updateStatusWithRetry<T extends KubeObject>(
    rt: ResourceType,
    namespace: string | undefined,
    name: string,
    mutate: (obj: T) => T | undefined,
    opts: CallOptions & { attempts?: number } = {},
  ): Promise<T | undefined> {
    const attempts = opts.attempts ?? 5;
    const call = { signal: opts.signal };
    for (let i = 0; ; i++) {
      const current = await this.tryGet<T>(rt, namespace, name, call);
      if (!current) return undefined;
      const next = mutate(current);
      if (!next) return current;
      try {
        return await this.updateStatus(rt, next, call);
      } catch (e) {
        if (!isConflict(e) || i + 1 >= attempts) throw e;
        await sleep(10 * 2 ** i + Math.random() * 10, opts.signal);
        opts.signal?.throwIfAborted();
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Watch

  /**
   * Opens a watch stream. Events are yielded as they arrive; the iterator ends when the server
   * closes the stream (timeout) and throws on transport errors. An ERROR event is thrown as an
   * ApiError (410 Gone for an expired resourceVersion).
   */
  async *watch<T extends KubeObject>(rt: ResourceType, namespace: string | undefined, opts: WatchOptions = {}): AsyncGenerator<WatchEvent<T>> {
    const query: Query = {
      watch: 'true',
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
      resourceVersion: opts.resourceVersion,
      allowWatchBookmarks: opts.allowWatchBookmarks ?? true,
      timeoutSeconds: opts.timeoutSeconds,
    };
    const path = KubeClient.path(rt, namespace);
    const res = await this.open('GET', path, { query, signal: opts.signal, accept: opts.metadataOnly ? ACCEPT_METADATA : undefined });
    if ((res.statusCode ?? 0) >= 300) {
      const body = await readBody(res);
      throw new ApiError(res.statusCode ?? 0, parseStatus(body), 'WATCH', path);
    }
    opts.onOpen?.();
    res.setEncoding('utf8');
    const idleMs = opts.idleTimeoutMs ?? ((opts.timeoutSeconds ?? 600) + 90) * 1000;
    // One timer for the stream, pushed back at each chunk (refresh() re-arms it in place).
    const idle = setTimeout(() => res.destroy(new Error(`watch idle for ${Math.round(idleMs / 1000)} s`)), idleMs);
    idle.unref();
    let buf = '';
    try {
      for await (const chunk of res as AsyncIterable<string>) {
        idle.refresh();
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          const ev = JSON.parse(line) as WatchEvent<T>;
          if (ev.type === 'ERROR') {
            const st = ev.object as unknown as Status;
            throw new ApiError(st.code ?? 500, st, 'WATCH', path);
          }
          yield ev;
        }
      }
    } catch (e) {
      // An abort destroys the stream ("aborted"): report the signal's reason, as every call does.
      throw opts.signal?.aborted ? opts.signal.reason : e;
    } finally {
      clearTimeout(idle);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Transport

  /**
   * Raw request returning parsed JSON; throws ApiError for non-2xx answers.
   *
   * An answer that asks the client to come back later (429, or a 5xx, with Retry-After in whole
   * seconds) is retried after that delay, up to MAX_RETRY_AFTER times, as client-go does: with
   * priority and fairness the apiserver rejects a request it could not queue with 429 and
   * Retry-After, before running it, so even a create is safe to send again. The client-side rate
   * limit applies to every attempt.
   */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const res = await this.open(method, path, opts);
      const body = await readBody(res, opts.signal);
      const code = res.statusCode ?? 0;
      clientMetrics.requests.inc({ method, code: String(code) });
      if (code < 300) return (body ? JSON.parse(body) : {}) as T;
      const wait = retryAfterMs(code, res.headers['retry-after']);
      if (wait === undefined || attempt >= MAX_RETRY_AFTER) throw new ApiError(code, parseStatus(body), method, path);
      await sleep(wait, opts.signal);
    }
  }

  private async open(method: string, path: string, opts: RequestOptions): Promise<http.IncomingMessage> {
    const queued = performance.now();
    await this.limiter.take(opts.signal);
    clientMetrics.rateLimiterDuration.observe({ verb: method }, (performance.now() - queued) / 1000);
    // Cancelled while waiting for the rate limit (or before): no request is sent at all.
    opts.signal?.throwIfAborted();
    const headers: http.OutgoingHttpHeaders = {
      ...(await this.auth.headers()),
      accept: opts.accept ?? 'application/json',
      'user-agent': this.userAgent,
    };
    let payload: string | undefined;
    if (opts.body !== undefined) {
      payload = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
      headers['content-type'] = opts.contentType ?? 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    const { tls, hostname, port, base } = this.origin;
    // The path is sent as written: a name of "." or ".." reaches the apiserver, which refuses it,
    // instead of being resolved into another path by URL normalisation.
    const target = { hostname, port, path: base + path + queryString(opts.query, path.includes('?')), method, headers, agent: this.agent, signal: opts.signal };
    return new Promise((resolve, reject) => {
      const req = tls ? https.request(target, resolve) : http.request(target, resolve);
      req.on('error', (e) => {
        clientMetrics.requests.inc({ method, code: '<error>' });
        // An abort is reported with the signal's own reason (a TimeoutError for a deadline), so
        // the caller can tell its cancellation from a failure of the connection.
        reject(opts.signal?.aborted ? opts.signal.reason : e);
      });
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }
}

/** How often a request answered "retry after" is sent again before its error is returned (client-go: 10). */
export const MAX_RETRY_AFTER = 10;

/**
 * The delay an answer asks for: 429 or 5xx with Retry-After in whole seconds (the form the
 * apiserver sends, and the only one client-go reads); undefined when it does not ask for a retry.
 * Capped, so that a broken header cannot park a reconcile for hours.
 */
export function retryAfterMs(code: number, header: string | string[] | undefined): number | undefined {
  if (code !== 429 && (code < 500 || code > 599)) return undefined;
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || !/^\d{1,6}$/.test(value.trim())) return undefined;
  return Math.min(Number(value.trim()), 60) * 1000;
}

/**
 * The whole body of an answer. An abort after the headers arrived destroys the answer (node:https
 * does that for a request given a signal), which may end the stream with 'close' and no 'error':
 * that settles the promise too, with the signal's reason, so a cancelled call never hangs.
 */
function readBody(res: http.IncomingMessage, signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    // Bytes, decoded once at the end (as the providers' exchange reads answers): a character
    // split between chunks is whole again in the joined buffer. Most answers are one chunk.
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8')));
    res.on('error', (e) => reject(signal?.aborted ? signal.reason : e));
    res.on('close', () => {
      if (!res.complete) reject(signal?.aborted ? signal.reason : Object.assign(new Error('connection closed before the answer was complete'), { code: 'ECONNRESET' }));
    });
  });
}

function parseStatus(body: string): Status | undefined {
  try {
    const s = JSON.parse(body) as Status;
    return s && typeof s === 'object' ? s : undefined;
  } catch {
    return body ? { kind: 'Status', apiVersion: 'v1', message: body.slice(0, 500) } : undefined;
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, timerDelayMs(ms));
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}


export interface ServerOrigin {
  tls: boolean;
  hostname: string;
  port: number | undefined;
  /** A path the server is reached under (a proxy's prefix), without its trailing '/'; usually ''. */
  base: string;
}

export function serverOrigin(server: string): ServerOrigin {
  const u = new URL(server);
  return {
    tls: u.protocol === 'https:',
    hostname: stripBrackets(u.hostname),
    port: u.port === '' ? undefined : Number(u.port),
    base: withoutTrailingSlashes(u.pathname),
  };
}

/** `?k=v&…` of the parameters that have a value ('&…' after a path that has a query already). */
export function queryString(query: Query | undefined, hasQuery = false): string {
  let out = '';
  for (const k in query) {
    const v = query[k];
    if (v === undefined || v === '') continue;
    out += `${out === '' && !hasQuery ? '?' : '&'}${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`;
  }
  return out;
}

/** Trailing '/' removed by a loop: a RegExp `/\/+$/` is quadratic on a long run of slashes. */
function withoutTrailingSlashes(url: string): string {
  let end = url.length;
  while (end > 0 && url.charCodeAt(end - 1) === 47) end--;
  return url.slice(0, end);
}
