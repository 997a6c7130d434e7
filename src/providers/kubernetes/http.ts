// A minimal client for the few Kubernetes API calls this provider makes (get and list Secrets,
// SelfSubjectAccessReview), over node:https with the store's CA, client certificate or bearer
// token. The operator's own KubeClient is not used: it talks to the operator's cluster with the
// operator's identity, while a store names its own server and credentials. The exchange itself
// (total deadline, response size cap, error classification) is the shared one of providers/common.
import type http from 'node:http';
import type https from 'node:https';
import { NotFoundError, ProviderError } from '../provider.ts';
import type { ApiCallDetail, ProviderErrorKind } from '../provider.ts';
import { callLimits, exchange, networkError, reportCall, storeAgent } from '../common/http.ts';
import { abortReason } from '../../shared-call.ts';
import type { CallLimits } from '../common/http.ts';
import { trimTrailingSlashes } from '../common/slashes.ts';

export const METRIC_PROVIDER = 'Kubernetes';

export interface KubeTransportOptions {
  server: string;
  ca?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
  /** HTTP basic credentials (a kubeconfig user's inline username and password). */
  basic?: { username: string; password: string } | undefined;
  /** Total deadline of one call (ms); providers/common's default when absent. */
  deadlineMs?: number | undefined;
  /** Returns the bearer token for a request; `fresh` asks for a new one after a 401. */
  token?: ((fresh: boolean) => Promise<string>) | undefined;
  onApiCall?: ((operation: string, detail?: ApiCallDetail) => void) | undefined;
  /** The operator's environment, for HTTPS_PROXY/HTTP_PROXY/NO_PROXY; process.env when absent. */
  env?: Record<string, string | undefined> | undefined;
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
  private readonly limits: CallLimits;

  constructor(o: KubeTransportOptions) {
    this.o = o;
    this.server = trimTrailingSlashes(o.server);
    this.limits = callLimits(o.deadlineMs);
    this.agent = storeAgent(this.server, { ca: o.ca, cert: o.cert, key: o.key, maxSockets: 16, env: o.env });
  }

  close(): void {
    this.agent.destroy();
  }

  /**
   * Sends one request; returns the parsed JSON of a 2xx answer, throws a ProviderError otherwise
   * (or the signal's reason once `signal` aborts).
   */
  async request<T>(site: KubeCallSite, method: string, path: string, body?: unknown, query?: Record<string, string | undefined>, signal?: AbortSignal): Promise<T> {
    let res = await this.send(site, method, path, body, query, false, signal);
    if (res.status === 401 && this.o.token) res = await this.send(site, method, path, body, query, true, signal);
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

  private async send(site: KubeCallSite, method: string, path: string, body: unknown, query: Record<string, string | undefined> | undefined, fresh: boolean, signal: AbortSignal | undefined): Promise<{ status: number; text: string }> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') url.searchParams.set(k, v);
    const headers: http.OutgoingHttpHeaders = { accept: 'application/json', 'user-agent': 'tessera' };
    if (this.o.token) headers.authorization = `Bearer ${await this.o.token(fresh)}`;
    else if (this.o.basic) headers.authorization = `Basic ${Buffer.from(`${this.o.basic.username}:${this.o.basic.password}`, 'utf8').toString('base64')}`;
    let payload: string | undefined;
    if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    try {
      const answer = await exchange({ url, method, headers, payload, agent: this.agent, limits: this.limits, signal });
      return { status: answer.status, text: answer.text };
    } catch (err) {
      if (signal?.aborted) throw abortReason(signal);
      this.report(site.operation, 'error');
      throw networkError(`Kubernetes ${site.operation} ${site.what}`, this.server, err);
    }
  }

  private report(operation: string, status: 'success' | 'error'): void {
    reportCall(this.o.onApiCall, operation, METRIC_PROVIDER, status);
  }
}
