// The HTTP client the Azure SDK clients (Key Vault and Entra ID alike) send through. The SDK's
// default client has neither a total deadline nor a size cap; routing every exchange through
// providers/common/http.ts gives Azure stores the same limits as Vault and Kubernetes stores:
// --provider-timeout per exchange, 16 MiB per answer, the caller's AbortSignal honoured.
// Trust is Node's default store (plus NODE_EXTRA_CA_CERTS): ESO's azurekv has no CA field.
import http from 'node:http';
import https from 'node:https';
import { createHttpHeaders, type HttpClient, type PipelineRequest, type PipelineResponse } from '@azure/core-rest-pipeline';
import { exchange, type CallLimits } from '../common/http.ts';

/** Parallel connections per store: Key Vault reads are small and quick. */
const MAX_SOCKETS = 8;

export class LimitedHttpClient implements HttpClient {
  readonly #agent = new https.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS });
  /** Only for the managed-identity endpoint (IMDS), which is link-local plain HTTP by design. */
  readonly #plainAgent = new http.Agent({ keepAlive: false, maxSockets: MAX_SOCKETS });
  readonly #limits: CallLimits;

  constructor(limits: CallLimits) {
    this.#limits = limits;
  }

  async sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
    const url = new URL(request.url);
    // Bearer tokens and client secrets never travel in clear text; the SDK allows plain HTTP for
    // the node-local managed-identity endpoint alone (allowInsecureConnection).
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && request.allowInsecureConnection === true)) {
      throw Object.assign(new Error(`refusing to send an Azure request over ${url.protocol.replace(':', '')} (https only)`), { code: 'ERR_INSECURE_URL' });
    }
    const body = request.body;
    let payload: string | undefined;
    if (typeof body === 'string') payload = body;
    else if (body instanceof Uint8Array) payload = Buffer.from(body).toString('utf8');
    else if (body !== undefined && body !== null) throw new Error('unsupported request body type (streams and forms are not used by the Key Vault and Entra ID reads)');
    const headers: Record<string, string> = {};
    for (const [name, value] of request.headers) headers[name] = value;
    const answer = await exchange({
      url,
      method: request.method,
      headers,
      payload,
      agent: url.protocol === 'https:' ? this.#agent : this.#plainAgent,
      limits: this.#limits,
      // The pipeline hands Node's own AbortSignal through (the caller's, combined with retries').
      signal: request.abortSignal instanceof AbortSignal ? request.abortSignal : undefined,
    });
    const responseHeaders = createHttpHeaders();
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value === undefined) continue;
      responseHeaders.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    return { request, status: answer.status, headers: responseHeaders, bodyAsText: answer.text };
  }

  close(): void {
    this.#agent.destroy();
    this.#plainAgent.destroy();
  }
}
