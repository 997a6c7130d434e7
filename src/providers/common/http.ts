// One HTTP exchange with a provider's server, shared by the providers that speak HTTP themselves
// (Vault, Kubernetes). The server URL of those stores is tenant-written, so the server may be
// hostile: it may answer without end, drip one byte at a time, or close mid-answer. Hence:
//   - a TOTAL deadline per exchange (src/deadline.ts, released when the exchange settles), not an
//     idle timeout, which a server dripping a byte every few seconds would keep alive forever;
//   - a cap on the answer's size, counted in bytes as they arrive, so an endless body cannot
//     grow a string past V8's limit (a RangeError thrown in a stream handler kills the process);
//   - every failure settles the one promise: nothing is thrown from an event handler.
// Errors are classified once here, in the words both providers used.
import http from 'node:http';
import https from 'node:https';
import { ProviderError } from '../provider.ts';
import type { ApiCallDetail } from '../provider.ts';
import { abortReason } from '../../shared-call.ts';
import { startDeadline } from '../../deadline.ts';
import { agentProxyOptions } from '../../http-proxy.ts';

/**
 * Default total deadline of one provider call. A healthy Vault or apiserver answers in
 * milliseconds; 30 s leaves room for a slow network and a loaded server while bounding how long
 * one hostile endpoint holds a worker. `tessera run --provider-timeout` overrides it.
 */
export const DEFAULT_CALL_DEADLINE_MS = 30_000;

/**
 * Largest answer read from a provider: 16 MiB. A Kubernetes Secret holds at most 1 MiB of data
 * (about 1.4 MiB as base64 JSON), a Vault KV secret is limited by the storage entry size (1 MiB
 * on the default backends); the largest legitimate answers are lists: a Secret list page of 500
 * small Secrets or a Vault LIST of tens of thousands of keys stays well under 16 MiB. The cap is
 * per call: what one reconcile holds across several calls is not bounded here (docs/security.md).
 */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** How long a call may take and how large its answer may be. */
export interface CallLimits {
  deadlineMs: number;
  maxResponseBytes: number;
}

export function callLimits(deadlineMs: number | undefined): CallLimits {
  return { deadlineMs: deadlineMs !== undefined && deadlineMs > 0 ? deadlineMs : DEFAULT_CALL_DEADLINE_MS, maxResponseBytes: MAX_RESPONSE_BYTES };
}

export interface HttpExchange {
  url: URL;
  method: string;
  headers: http.OutgoingHttpHeaders;
  payload?: string | undefined;
  agent: http.Agent | https.Agent;
  limits: CallLimits;
  /** A caller's cancellation (shutdown, reconcile deadline), combined with the call's deadline. */
  signal?: AbortSignal | undefined;
}

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body as UTF-8 text. */
  text: string;
}

/** A limit of the exchange was hit: the deadline passed or the answer grew past the cap. */
export class CallLimitError extends Error {
  readonly code: 'DEADLINE_EXCEEDED' | 'RESPONSE_TOO_LARGE';
  readonly limit: number;
  constructor(code: CallLimitError['code'], limit: number) {
    super(code === 'DEADLINE_EXCEEDED' ? `deadline of ${formatMs(limit)} exceeded` : `answer larger than the ${formatBytes(limit)} response size cap`);
    this.name = 'CallLimitError';
    this.code = code;
    this.limit = limit;
  }
}

export function formatMs(ms: number): string {
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)}s` : `${ms}ms`;
}

export function formatBytes(n: number): string {
  if (n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

/**
 * Sends one request and collects the whole answer within the limits. Never throws synchronously.
 * When the caller's signal aborts, the request is destroyed at once and the promise rejects with
 * the signal's reason (not a ProviderError: the caller cancelled, the server did not fail).
 */
export function exchange(x: HttpExchange): Promise<HttpAnswer> {
  return new Promise<HttpAnswer>((resolve, reject) => {
    const deadline = startDeadline(x.signal, x.limits.deadlineMs);
    const signal = deadline.signal;
    let req: http.ClientRequest | undefined;
    let settled = false;
    const settle = (err: unknown, answer?: HttpAnswer): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      deadline.release();
      if (err !== undefined) {
        // Destroying frees the socket (a kept-alive one is not reused after a cut-off answer).
        req?.destroy();
        reject(err);
      } else resolve(answer!);
    };
    const onAbort = (): void => {
      // The call's own deadline is a failure of the call; the caller's abort is its reason, as is.
      const err = deadline.expired ? new CallLimitError('DEADLINE_EXCEEDED', x.limits.deadlineMs) : abortReason(x.signal!);
      settle(err);
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const mod = x.url.protocol === 'https:' ? https : http;
      req = mod.request(x.url, { method: x.method, headers: x.headers, agent: x.agent }, (res) => {
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > x.limits.maxResponseBytes) {
          settle(new CallLimitError('RESPONSE_TOO_LARGE', x.limits.maxResponseBytes));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (settled) return;
          size += chunk.length;
          if (size > x.limits.maxResponseBytes) {
            settle(new CallLimitError('RESPONSE_TOO_LARGE', x.limits.maxResponseBytes));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          try {
            settle(undefined, { status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
          } catch (err) {
            settle(err);
          }
        });
        res.on('error', (err) => settle(err));
        // A connection closed before the end of the answer: not an answer.
        res.on('close', () => {
          if (!res.complete) settle(Object.assign(new Error('connection closed before the answer was complete'), { code: 'ECONNRESET' }));
        });
      });
      req.on('error', (err) => settle(err));
      if (x.payload !== undefined) req.write(x.payload);
      req.end();
    } catch (err) {
      // An invalid header value, say: reported like any other failure of the call.
      settle(err);
    }
  });
}

const unreachableCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED', 'ABORT_ERR']);
const tlsCodes = /^(ERR_TLS|ERR_SSL|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|ERR_OSSL)/;

/**
 * A failure without an HTTP answer, as a ProviderError. `where` names the call (e.g.
 * `Vault ReadSecretData "secret/data/x"`). A passed deadline is Unreachable (retried with
 * backoff); an answer over the cap is Unknown: the server answered, but not something a provider
 * may legitimately return.
 */
export function networkError(where: string, server: string, err: unknown): ProviderError {
  if (err instanceof ProviderError) return err;
  if (err instanceof CallLimitError) {
    if (err.code === 'DEADLINE_EXCEEDED') return new ProviderError('Unreachable', `${where}: deadline of ${formatMs(err.limit)} exceeded waiting for ${server}`, { cause: err });
    return new ProviderError('Unknown', `${where}: the answer of ${server} exceeds the response size cap of ${formatBytes(err.limit)}; the call was cut off`, { cause: err });
  }
  const code = (err as { code?: unknown } | null)?.code;
  const c = typeof code === 'string' ? code : undefined;
  const msg = err instanceof Error ? err.message : String(err);
  if (c !== undefined && tlsCodes.test(c)) {
    return new ProviderError('Unreachable', `${where}: TLS handshake with ${server} failed (${c}: ${msg.slice(0, 160)})`, { cause: err });
  }
  if (c !== undefined && unreachableCodes.has(c)) return new ProviderError('Unreachable', `${where}: server ${server} unreachable (${c})`, { cause: err });
  if (c === undefined && /timed? ?out/i.test(msg)) return new ProviderError('Unreachable', `${where}: server ${server} did not answer in time (ETIMEDOUT)`, { cause: err });
  return new ProviderError('Unreachable', `${where}: request to ${server} failed (${c ?? msg.slice(0, 160)})`, { cause: err });
}

/** Reports one remote call to the metrics hook; a failing hook never fails a read. */
export function reportCall(onApiCall: ((operation: string, detail?: ApiCallDetail) => void) | undefined, operation: string, provider: string, status: 'success' | 'error'): void {
  try {
    onApiCall?.(operation, { provider, status });
  } catch {
    // A metrics hook must never fail a read.
  }
}

/**
 * Agent options routing requests to `server` through the proxy the operator's environment names
 * (HTTPS_PROXY, HTTP_PROXY, NO_PROXY, decided as Go does: src/go/httpproxy.ts), for every provider
 * client. An invalid setting fails the store, naming the variable.
 */
export function providerProxyOptions(server: string, env: Record<string, string | undefined> | undefined): ReturnType<typeof agentProxyOptions> {
  try {
    return agentProxyOptions(env ?? process.env, server);
  } catch (e) {
    throw new ProviderError('InvalidRequest', `operator environment: ${(e as Error).message}`);
  }
}

/** A keep-alive agent for one store's server, with its CA bundle, client certificate and proxy. */
export function storeAgent(
  server: string,
  o: { ca?: string | undefined; cert?: string | undefined; key?: string | undefined; maxSockets: number; keepAlive?: boolean; env?: Record<string, string | undefined> | undefined },
): http.Agent | https.Agent {
  const keepAlive = o.keepAlive ?? true;
  const proxy = providerProxyOptions(server, o.env);
  return server.startsWith('https:')
    ? new https.Agent({ keepAlive, maxSockets: o.maxSockets, ...(o.ca ? { ca: o.ca } : {}), ...(o.cert && o.key ? { cert: o.cert, key: o.key } : {}), ...proxy })
    : new http.Agent({ keepAlive, maxSockets: o.maxSockets, ...proxy });
}
