// A minimal client for the few Kubernetes API calls this provider makes (get and list Secrets,
// SelfSubjectAccessReview), over node:https with the store's CA, client certificate or bearer
// token. The operator's own KubeClient is not used: it talks to the operator's cluster with the
// operator's identity, while a store names its own server and credentials.
import http from 'node:http';
import https from 'node:https';
import { NotFoundError, ProviderError } from '../provider.ts';
import type { ApiCallDetail, ProviderErrorKind } from '../provider.ts';

export const METRIC_PROVIDER = 'Kubernetes';
export const REQUEST_TIMEOUT_MS = 10_000;

export interface KubeTransportOptions {
  server: string;
  ca?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
  /** Returns the bearer token for a request; `fresh` asks for a new one after a 401. */
  token?: ((fresh: boolean) => Promise<string>) | undefined;
  onApiCall?: ((operation: string, detail?: ApiCallDetail) => void) | undefined;
}

export interface KubeCallSite {
  /** ESO's metric call name: GetSecret, ListSecrets, CreateSelfSubjectAccessReview. */
  operation: string;
  /** What was asked, for messages: `secret "ns/name"`. */
  what: string;
}

interface Status {
  message?: string;
  reason?: string;
}

const unreachableCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED']);

export function classifyKube(status: number): ProviderErrorKind {
  if (status === 404) return 'NotFound';
  if (status === 401) return 'BadCredentials';
  if (status === 403) return 'AccessDenied';
  if (status === 429) return 'Throttled';
  if (status === 400 || status === 422) return 'InvalidRequest';
  if (status >= 500) return 'Unreachable';
  return 'Unknown';
}

export class KubeTransport {
  readonly server: string;
  private readonly o: KubeTransportOptions;
  private readonly agent: http.Agent | https.Agent;

  constructor(o: KubeTransportOptions) {
    this.o = o;
    this.server = o.server.replace(/\/+$/, '');
    this.agent = this.server.startsWith('https:')
      ? new https.Agent({ keepAlive: true, maxSockets: 16, ...(o.ca ? { ca: o.ca } : {}), ...(o.cert && o.key ? { cert: o.cert, key: o.key } : {}) })
      : new http.Agent({ keepAlive: true, maxSockets: 16 });
  }

  close(): void {
    this.agent.destroy();
  }

  /** Sends one request; returns the parsed JSON of a 2xx answer, throws a ProviderError otherwise. */
  async request<T>(site: KubeCallSite, method: string, path: string, body?: unknown, query?: Record<string, string | undefined>): Promise<T> {
    let res = await this.send(site, method, path, body, query, false);
    if (res.status === 401 && this.o.token) res = await this.send(site, method, path, body, query, true);
    const ok = res.status >= 200 && res.status < 300;
    this.report(site.operation, ok ? 'success' : 'error');
    if (ok) {
      try {
        return JSON.parse(res.text) as T;
      } catch {
        // The body may be a Secret: a JSON parse error would quote its bytes, so it is not kept.
        throw new ProviderError('Unknown', `Kubernetes ${site.operation}: the answer is not valid JSON (HTTP ${res.status})`);
      }
    }
    let st: Status | undefined;
    try {
      st = JSON.parse(res.text) as Status;
    } catch {
      st = undefined;
    }
    const kind = classifyKube(res.status);
    // The apiserver's Status message names the user, verb, resource and namespace: never data.
    const detail = st?.message ? `: ${st.message.slice(0, 300)}` : '';
    const words = kind === 'NotFound' ? 'not found' : kind === 'AccessDenied' ? 'forbidden' : kind === 'BadCredentials' ? 'unauthorized (credentials rejected)' : 'failed';
    const message = `Kubernetes ${site.operation} ${site.what}: ${words} (HTTP ${res.status}${kind === 'NotFound' ? '' : detail})`;
    if (kind === 'NotFound') throw new NotFoundError(message);
    throw new ProviderError(kind, message);
  }

  private async send(site: KubeCallSite, method: string, path: string, body: unknown, query: Record<string, string | undefined> | undefined, fresh: boolean): Promise<{ status: number; text: string }> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') url.searchParams.set(k, v);
    const headers: http.OutgoingHttpHeaders = { accept: 'application/json', 'user-agent': 'tessera' };
    if (this.o.token) headers.authorization = `Bearer ${await this.o.token(fresh)}`;
    let payload: string | undefined;
    if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    const mod = url.protocol === 'https:' ? https : http;
    try {
      return await new Promise((resolve, reject) => {
        const req = mod.request(url, { method, headers, agent: this.agent, timeout: REQUEST_TIMEOUT_MS }, (r) => {
          let text = '';
          r.setEncoding('utf8');
          r.on('data', (c: string) => (text += c));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, text }));
          r.on('error', reject);
        });
        req.on('timeout', () => req.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })));
        req.on('error', reject);
        if (payload !== undefined) req.write(payload);
        req.end();
      });
    } catch (err) {
      this.report(site.operation, 'error');
      const code = (err as { code?: unknown }).code;
      const c = typeof code === 'string' ? code : undefined;
      const tls = c !== undefined && /^(ERR_TLS|ERR_SSL|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|ERR_OSSL)/.test(c);
      const what = tls ? `TLS handshake with ${this.server} failed (${c})` : `server ${this.server} unreachable (${c ?? (err as Error).message.slice(0, 120)})`;
      if (!tls && c !== undefined && !unreachableCodes.has(c)) {
        throw new ProviderError('Unreachable', `Kubernetes ${site.operation} ${site.what}: request to ${this.server} failed (${c})`, { cause: err });
      }
      throw new ProviderError('Unreachable', `Kubernetes ${site.operation} ${site.what}: ${what}`, { cause: err });
    }
  }

  private report(operation: string, status: 'success' | 'error'): void {
    try {
      this.o.onApiCall?.(operation, { provider: METRIC_PROVIDER, status });
    } catch {
      // A metrics hook must never fail a read.
    }
  }
}
