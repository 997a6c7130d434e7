// A minimal Vault HTTP API client over node:http(s): one keep-alive agent per store (CA bundle
// and client certificate), the headers ESO's Vault client sends (namespace, read-your-writes,
// forward-inconsistent, custom headers) and the API-call counter. The exchange itself (total
// deadline, response size cap, error classification) is the shared one of providers/common.
import type http from 'node:http';
import type https from 'node:https';
import type { ApiCallDetail } from '../provider.ts';
import { CallLimitError, callLimits, exchange, reportCall, storeAgent } from '../common/http.ts';
import { abortReason } from '../../shared-call.ts';
import type { CallLimits, HttpAnswer } from '../common/http.ts';
import { vaultHttpError, vaultNetworkError } from './errors.ts';
import type { VaultCallSite } from './errors.ts';
import { parseJsonKeepingNumbers } from '../../go/json.ts';
import { encodePath } from './paths.ts';
import { trimTrailingSlashes } from '../common/slashes.ts';

/** How many of a Vault answer's `errors`, and how much of each, are kept. */
const MAX_ERRORS = 16;
const MAX_ERROR_CHARS = 1000;

/** ESO's provider label for externalsecret_provider_api_calls_count. */
export const METRIC_PROVIDER = 'HashiCorp/Vault';

export interface TransportOptions {
  server: string;
  /** X-Vault-Namespace of every request unless a call names another. */
  namespace?: string | undefined;
  headers?: Record<string, string> | undefined;
  ca?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
  readYourWrites?: boolean | undefined;
  forwardInconsistent?: boolean | undefined;
  /** Total deadline of one call (ms); providers/common's default when absent. */
  deadlineMs?: number | undefined;
  onApiCall?: ((operation: string, detail?: ApiCallDetail) => void) | undefined;
  /** The operator's environment, for HTTPS_PROXY/HTTP_PROXY/NO_PROXY; process.env when absent. */
  env?: Record<string, string | undefined> | undefined;
}

export interface CallOptions {
  token?: string | undefined;
  body?: unknown;
  query?: Record<string, string | undefined> | undefined;
  /** Overrides the transport's namespace (auth.namespace for logins); '' sends none. */
  namespace?: string | undefined;
  /** TLS client certificate for this call only (the cert auth method's login). */
  clientCert?: { cert: string; key: string } | undefined;
  /** The caller's cancellation: the call ends at once with the signal's reason. */
  signal?: AbortSignal | undefined;
}

export interface VaultResponse {
  status: number;
  /** The parsed body (numbers as JsonNumber), undefined when empty or not JSON. */
  body: Record<string, unknown> | undefined;
  /** Vault's `errors` array, [] when absent. */
  errors: string[];
}

export class VaultTransport {
  readonly server: string;
  private readonly o: TransportOptions;
  private readonly agent: http.Agent | https.Agent;
  private readonly certAgents = new Map<string, https.Agent>();
  private readonly tls: boolean;
  private readonly limits: CallLimits;
  /** The last X-Vault-Index seen, sent back when readYourWrites is on. */
  private index: string | undefined;

  constructor(o: TransportOptions) {
    this.o = o;
    this.server = trimTrailingSlashes(o.server);
    this.tls = this.server.startsWith('https:');
    this.limits = callLimits(o.deadlineMs);
    this.agent = storeAgent(this.server, { ca: o.ca, cert: o.cert, key: o.key, maxSockets: 32, env: o.env });
  }

  close(): void {
    this.agent.destroy();
    for (const a of this.certAgents.values()) a.destroy();
    this.certAgents.clear();
  }

  private agentFor(clientCert: CallOptions['clientCert']): http.Agent | https.Agent {
    if (!clientCert || !this.tls) return this.agent;
    const id = `${clientCert.cert}\u0000${clientCert.key}`;
    let a = this.certAgents.get(id);
    if (!a) {
      a = storeAgent(this.server, { ca: this.o.ca, cert: clientCert.cert, key: clientCert.key, maxSockets: 4, keepAlive: false, env: this.o.env }) as https.Agent;
      this.certAgents.set(id, a);
    }
    return a;
  }

  /** Sends one request and returns the answer whatever its status; throws only without one. */
  // eslint-disable-next-line complexity -- the one transport path (limits, redirects, errors); the cancellation work of issue 10 (item 3) rewrites it, split after that lands
  async send(site: VaultCallSite, method: string, path: string, opts: CallOptions = {}): Promise<VaultResponse> {
    const url = new URL(`${this.server}/v1/${encodePath(path)}`);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined && v !== '') url.searchParams.set(k, v);
    const headers: http.OutgoingHttpHeaders = { ...(this.o.headers ?? {}), accept: 'application/json', 'x-vault-request': 'true', 'user-agent': 'tessera' };
    const ns = opts.namespace ?? this.o.namespace;
    if (ns) headers['x-vault-namespace'] = ns;
    if (opts.token) headers['x-vault-token'] = opts.token;
    if (this.o.forwardInconsistent) headers['x-vault-inconsistent'] = 'forward-active-node';
    if (this.o.readYourWrites && this.index) headers['x-vault-index'] = this.index;
    let payload: string | undefined;
    if (opts.body !== undefined) {
      payload = JSON.stringify(opts.body);
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    const agent = this.agentFor(opts.clientCert);
    // One deadline for the call, the retry included: a retry must not double the time a
    // hostile server may hold the worker.
    const started = performance.now();
    const attempt = (deadlineMs: number) => exchange({ url, method, headers, payload, agent, limits: { ...this.limits, deadlineMs }, signal: opts.signal });
    let answer: HttpAnswer;
    try {
      try {
        answer = await attempt(this.limits.deadlineMs);
      } catch (err) {
        // A kept-alive connection the server closed meanwhile: retry once on a new one.
        const left = this.limits.deadlineMs - (performance.now() - started);
        if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET' || left < 1 || opts.signal?.aborted) throw err;
        answer = await attempt(left).catch((e: unknown) => {
          throw e instanceof CallLimitError && e.code === 'DEADLINE_EXCEEDED' ? new CallLimitError('DEADLINE_EXCEEDED', this.limits.deadlineMs) : e;
        });
      }
    } catch (err) {
      // Cancelled by the caller: no call failed, nothing to count; the abort goes up as it is.
      if (opts.signal?.aborted) throw abortReason(opts.signal);
      this.report(site.operation, 'error');
      throw vaultNetworkError(site, this.server, err);
    }
    const idx = answer.headers['x-vault-index'];
    const res = { status: answer.status, text: answer.text, index: Array.isArray(idx) ? idx[idx.length - 1] : idx };
    if (this.o.readYourWrites && res.index) this.index = res.index;
    let body: Record<string, unknown> | undefined;
    if (res.text.trim() !== '') {
      try {
        const parsed = parseJsonKeepingNumbers(res.text);
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
      } catch {
        body = undefined; // a proxy's HTML error page, say: only the status is used
      }
    }
    // The server may be a tenant's: its error list is cut once, here, to what Vault really sends
    // (a few short sentences), so the classifiers' RegExps never scan megabytes of it.
    const errors = Array.isArray(body?.errors)
      ? (body.errors as unknown[]).filter((e): e is string => typeof e === 'string').slice(0, MAX_ERRORS).map((e) => e.slice(0, MAX_ERROR_CHARS))
      : [];
    this.report(site.operation, res.status >= 200 && res.status < 300 ? 'success' : 'error');
    return { status: res.status, body, errors };
  }

  /** Like send, but a non-2xx answer throws the ProviderError for it. */
  async call(site: VaultCallSite, method: string, path: string, opts: CallOptions = {}): Promise<Record<string, unknown>> {
    const res = await this.send(site, method, path, opts);
    if (res.status < 200 || res.status >= 300) throw vaultHttpError(site, res.status, res.errors);
    return res.body ?? {};
  }

  private report(operation: string, status: 'success' | 'error'): void {
    reportCall(this.o.onApiCall, operation, METRIC_PROVIDER, status);
  }
}
