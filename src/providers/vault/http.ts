// A minimal Vault HTTP API client over node:http(s): one keep-alive agent per store (CA bundle
// and client certificate), the headers ESO's Vault client sends (namespace, read-your-writes,
// forward-inconsistent, custom headers), short timeouts and the API-call counter.
import http from 'node:http';
import https from 'node:https';
import type { ApiCallDetail } from '../provider.ts';
import { vaultHttpError, vaultNetworkError } from './errors.ts';
import type { VaultCallSite } from './errors.ts';
import { parseLossless } from './gojson.ts';
import { encodePath } from './paths.ts';

/** ESO's provider label for externalsecret_provider_api_calls_count. */
export const METRIC_PROVIDER = 'HashiCorp/Vault';
export const REQUEST_TIMEOUT_MS = 10_000;

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
  timeoutMs?: number | undefined;
  onApiCall?: ((operation: string, detail?: ApiCallDetail) => void) | undefined;
}

export interface CallOptions {
  token?: string | undefined;
  body?: unknown;
  query?: Record<string, string | undefined> | undefined;
  /** Overrides the transport's namespace (auth.namespace for logins); '' sends none. */
  namespace?: string | undefined;
  /** TLS client certificate for this call only (the cert auth method's login). */
  clientCert?: { cert: string; key: string } | undefined;
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
  /** The last X-Vault-Index seen, sent back when readYourWrites is on. */
  private index: string | undefined;

  constructor(o: TransportOptions) {
    this.o = o;
    this.server = o.server.replace(/\/+$/, '');
    this.tls = this.server.startsWith('https:');
    this.agent = this.tls
      ? new https.Agent({ keepAlive: true, maxSockets: 32, ...(o.ca ? { ca: o.ca } : {}), ...(o.cert && o.key ? { cert: o.cert, key: o.key } : {}) })
      : new http.Agent({ keepAlive: true, maxSockets: 32 });
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
      a = new https.Agent({ keepAlive: false, ...(this.o.ca ? { ca: this.o.ca } : {}), cert: clientCert.cert, key: clientCert.key });
      this.certAgents.set(id, a);
    }
    return a;
  }

  /** Sends one request and returns the answer whatever its status; throws only without one. */
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
    const mod = this.tls ? https : http;
    let res: { status: number; text: string; index: string | undefined };
    const attempt = () =>
      new Promise<{ status: number; text: string; index: string | undefined }>((resolve, reject) => {
        const req = mod.request(url, { method, headers, agent: this.agentFor(opts.clientCert), timeout: this.o.timeoutMs ?? REQUEST_TIMEOUT_MS }, (r) => {
          let text = '';
          r.setEncoding('utf8');
          r.on('data', (c: string) => (text += c));
          r.on('end', () => {
            const idx = r.headers['x-vault-index'];
            resolve({ status: r.statusCode ?? 0, text, index: Array.isArray(idx) ? idx[idx.length - 1] : idx });
          });
          r.on('error', reject);
        });
        req.on('timeout', () => req.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })));
        req.on('error', reject);
        if (payload !== undefined) req.write(payload);
        req.end();
      });
    try {
      try {
        res = await attempt();
      } catch (err) {
        // A kept-alive connection the server closed meanwhile: retry once on a new one.
        if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') throw err;
        res = await attempt();
      }
    } catch (err) {
      this.report(site.operation, 'error');
      throw vaultNetworkError(site, this.server, err);
    }
    if (this.o.readYourWrites && res.index) this.index = res.index;
    let body: Record<string, unknown> | undefined;
    if (res.text.trim() !== '') {
      try {
        const parsed = parseLossless(res.text);
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
      } catch {
        body = undefined; // a proxy's HTML error page, say: only the status is used
      }
    }
    const errors = Array.isArray(body?.errors) ? (body.errors as unknown[]).filter((e): e is string => typeof e === 'string') : [];
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
    try {
      this.o.onApiCall?.(operation, { provider: METRIC_PROVIDER, status });
    } catch {
      // A metrics hook must never fail a read.
    }
  }
}
