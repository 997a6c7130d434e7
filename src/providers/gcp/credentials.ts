// OAuth 2.0 access tokens for Secret Manager calls, from each of ESO's gcpsm auth methods:
//   - auth.secretRef: a service-account key JSON, exchanged by the JWT-bearer grant (RFC 7523) at
//     Google's token endpoint, as golang.org/x/oauth2/google's JWTConfigFromJSON does for ESO;
//   - auth.workloadIdentity: a TokenRequest token of the store's ServiceAccount, exchanged for an
//     identity-binding token at securetoken.googleapis.com (audience identitynamespace:…), then,
//     when the ServiceAccount names a Google service account (iam.gke.io/gcp-service-account),
//     for that account's token through IAM Credentials generateAccessToken, as ESO does;
//   - auth.workloadIdentityFederation with serviceAccountRef: a TokenRequest token exchanged at
//     STS (RFC 8693, sts.googleapis.com/v1/token), then optionally impersonated likewise;
//   - no auth: the controller's own (GOOGLE_APPLICATION_CREDENTIALS naming a key file, else the
//     GCE/GKE metadata server), as Google's default credential chain.
// The token is fetched by this module over providers/common/http (deadline, size cap, abort), not
// by the client library, so every exchange honours --provider-timeout and the reconcile's signal.
// The endpoints are the operator's (environment), never the key file's `token_uri`: a tenant's
// key must not send the operator's signed requests to a host of the tenant's choosing.
import { createSign } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { ProviderError } from '../provider.ts';
import type { ApiCallDetail } from '../provider.ts';
import { exchange, networkError, reportCall, type CallLimits } from '../common/http.ts';
import { SharedCall } from '../../shared-call.ts';
import { trimTrailingSlashes } from '../common/slashes.ts';

export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
/** ESO's metric provider label for every gcpsm call. */
export const METRIC_PROVIDER = 'GCP/SecretManager';

/** Token endpoints; each can be moved by the operator's environment (tests, private access). */
export interface GoogleEndpoints {
  oauthToken: string;
  secureToken: string;
  sts: string;
  iamCredentials: string;
  metadataHost: string;
}

export function endpointsFromEnv(env: Record<string, string | undefined>): GoogleEndpoints {
  const pick = (name: string, fallback: string) => {
    const v = env[name]?.trim();
    return v ? v : fallback;
  };
  return {
    oauthToken: pick('TESSERA_GCP_TOKEN_URL', 'https://oauth2.googleapis.com/token'),
    secureToken: pick('TESSERA_GCP_SECURETOKEN_URL', 'https://securetoken.googleapis.com/v1/identitybindingtoken'),
    sts: pick('TESSERA_GCP_STS_URL', 'https://sts.googleapis.com/v1/token'),
    iamCredentials: pick('TESSERA_GCP_IAMCREDENTIALS_URL', 'https://iamcredentials.googleapis.com'),
    // Google's own variable for the metadata server (the Go and Node libraries read it too).
    metadataHost: pick('GCE_METADATA_HOST', 'metadata.google.internal'),
  };
}

export interface AccessToken {
  token: string;
  /** Epoch ms after which the token is not used any more. */
  expiresAt: number;
}

export interface AccessTokenSource {
  token(signal?: AbortSignal): Promise<string>;
  /** Forgets `token` when Google refused it (revoked, or the server restarted): the next call fetches anew. */
  invalidate(token: string): void;
}

/** How the token exchanges of one client reach Google. */
export interface TokenTransport {
  limits: CallLimits;
  onApiCall?: ((operation: string, detail?: ApiCallDetail) => void) | undefined;
  now?: () => number;
}

const agents = { http: new http.Agent({ keepAlive: true, maxSockets: 4 }), https: new https.Agent({ keepAlive: true, maxSockets: 4 }) };

/**
 * A token fetched once and reused until a minute before it expires. Concurrent callers share one
 * fetch (a SharedCall: one caller giving up does not fail the others).
 */
export class CachedTokenSource implements AccessTokenSource {
  #cached: AccessToken | undefined;
  #inflight: SharedCall<AccessToken> | undefined;
  readonly #fetch: (signal: AbortSignal) => Promise<AccessToken>;
  readonly #now: () => number;

  constructor(fetch: (signal: AbortSignal) => Promise<AccessToken>, now: () => number = Date.now) {
    this.#fetch = fetch;
    this.#now = now;
  }

  async token(signal?: AbortSignal): Promise<string> {
    const c = this.#cached;
    if (c && c.expiresAt - 60_000 > this.#now()) return c.token;
    if (!this.#inflight || this.#inflight.abandoned) {
      const call = new SharedCall(async (s) => {
        const t = await this.#fetch(s);
        this.#cached = t;
        return t;
      });
      this.#inflight = call;
      const clear = () => {
        if (this.#inflight === call) this.#inflight = undefined;
      };
      call.promise.then(clear, clear);
    }
    return (await this.#inflight.join(signal)).token;
  }

  invalidate(token: string): void {
    if (this.#cached?.token === token) this.#cached = undefined;
  }
}

/** What a token endpoint answered with an error, in Google's words, cut short. */
function oauthErrorText(text: string): string {
  try {
    const j = JSON.parse(text) as { error?: unknown; error_description?: unknown };
    const err = typeof j.error === 'string' ? j.error : typeof (j.error as { message?: unknown } | undefined)?.message === 'string' ? (j.error as { message: string }).message : undefined;
    const desc = typeof j.error_description === 'string' ? j.error_description : undefined;
    const s = [err, desc].filter(Boolean).join(': ');
    if (s) return s.slice(0, 200);
  } catch {
    // not JSON: fall through
  }
  return 'no error text';
}

/**
 * One POST to a Google token service; returns the parsed JSON answer. `operation` names the call
 * in errors and, when `metric` is set, in externalsecret_provider_api_calls_count (ESO's names).
 */
async function postToGoogle(
  transport: TokenTransport,
  operation: string,
  url: string,
  body: { form: Record<string, string> } | { json: unknown },
  headers: Record<string, string>,
  signal: AbortSignal | undefined,
  metric: boolean,
): Promise<Record<string, unknown>> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ProviderError('InvalidRequest', `GCP ${operation}: the operator's endpoint ${JSON.stringify(url.slice(0, 100))} is not a URL`);
  }
  const payload = 'form' in body ? new URLSearchParams(body.form).toString() : JSON.stringify(body.json);
  const contentType = 'form' in body ? 'application/x-www-form-urlencoded' : 'application/json';
  const server = parsed.host;
  let answer;
  try {
    answer = await exchange({
      url: parsed,
      method: 'POST',
      headers: { 'content-type': contentType, 'content-length': Buffer.byteLength(payload), accept: 'application/json', ...headers },
      payload,
      agent: parsed.protocol === 'https:' ? agents.https : agents.http,
      limits: transport.limits,
      signal,
    });
  } catch (err) {
    if (signal?.aborted) throw err;
    if (metric) reportCall(transport.onApiCall, operation, METRIC_PROVIDER, 'error');
    throw networkError(`GCP ${operation}`, server, err);
  }
  if (metric) reportCall(transport.onApiCall, operation, METRIC_PROVIDER, answer.status === 200 ? 'success' : 'error');
  if (answer.status !== 200) {
    const text = oauthErrorText(answer.text);
    const where = `GCP ${operation} at ${server}: HTTP ${answer.status} (${text})`;
    if (answer.status === 400 || answer.status === 401) throw new ProviderError('BadCredentials', where);
    if (answer.status === 403) throw new ProviderError('AccessDenied', where);
    if (answer.status === 429) throw new ProviderError('Throttled', where);
    if (answer.status >= 500) throw new ProviderError('Unreachable', where);
    throw new ProviderError('InvalidRequest', where);
  }
  try {
    const j = JSON.parse(answer.text) as unknown;
    if (typeof j === 'object' && j !== null && !Array.isArray(j)) return j as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new ProviderError('Unknown', `GCP ${operation} at ${server}: the answer is not a JSON object`);
}

/** An OAuth token answer ({access_token, expires_in}) or IAM's ({accessToken, expireTime}). */
function tokenOf(answer: Record<string, unknown>, operation: string, now: number): AccessToken {
  const token = typeof answer.access_token === 'string' ? answer.access_token : typeof answer.accessToken === 'string' ? answer.accessToken : undefined;
  if (!token) throw new ProviderError('Unknown', `GCP ${operation}: the answer has no access token`);
  let expiresAt = now + 3600_000;
  if (typeof answer.expires_in === 'number' && answer.expires_in > 0) expiresAt = now + answer.expires_in * 1000;
  else if (typeof answer.expireTime === 'string' && Number.isFinite(Date.parse(answer.expireTime))) expiresAt = Date.parse(answer.expireTime);
  return { token, expiresAt };
}

/** The parts of a service-account key JSON a token needs. */
export interface ServiceAccountKey {
  clientEmail: string;
  privateKey: string;
  privateKeyId?: string | undefined;
}

/**
 * Parses a service-account key JSON (`gcloud iam service-accounts keys create` output). `field`
 * names where it came from; the message never quotes the content.
 */
export function parseServiceAccountKey(text: string, field: string): ServiceAccountKey {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    throw new ProviderError('BadCredentials', `${field}: is not a service-account key JSON (not valid JSON)`);
  }
  const o = (typeof j === 'object' && j !== null ? j : {}) as Record<string, unknown>;
  if (o.type !== 'service_account') {
    throw new ProviderError('BadCredentials', `${field}: is not a service-account key JSON (its "type" is ${typeof o.type === 'string' ? JSON.stringify(o.type.slice(0, 40)) : 'missing'}, expected "service_account")`);
  }
  if (typeof o.client_email !== 'string' || o.client_email === '') throw new ProviderError('BadCredentials', `${field}: the service-account key JSON has no client_email`);
  if (typeof o.private_key !== 'string' || !o.private_key.includes('PRIVATE KEY')) throw new ProviderError('BadCredentials', `${field}: the service-account key JSON has no PEM private_key`);
  return { clientEmail: o.client_email, privateKey: o.private_key, privateKeyId: typeof o.private_key_id === 'string' ? o.private_key_id : undefined };
}

const b64url = (s: string | Buffer) => Buffer.from(s).toString('base64url');

/** The signed JWT assertion of the JWT-bearer grant (Google's documented claims). */
export function jwtAssertion(key: ServiceAccountKey, audience: string, nowMs: number): string {
  const iat = Math.floor(nowMs / 1000);
  const header = { alg: 'RS256', typ: 'JWT', ...(key.privateKeyId ? { kid: key.privateKeyId } : {}) };
  const claims = { iss: key.clientEmail, scope: CLOUD_PLATFORM_SCOPE, aud: audience, iat, exp: iat + 3600 };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  let signature: Buffer;
  try {
    signature = createSign('RSA-SHA256').update(input).sign(key.privateKey);
  } catch {
    throw new ProviderError('BadCredentials', 'the service-account key JSON has a private_key that cannot sign (not an RSA private key in PEM)');
  }
  return `${input}.${signature.toString('base64url')}`;
}

/** auth.secretRef and GOOGLE_APPLICATION_CREDENTIALS: the JWT-bearer grant of a key. */
export function serviceAccountKeySource(key: ServiceAccountKey, endpoints: GoogleEndpoints, transport: TokenTransport): AccessTokenSource {
  const now = transport.now ?? Date.now;
  return new CachedTokenSource(async (signal) => {
    const answer = await postToGoogle(transport, 'OAuth2Token', endpoints.oauthToken, {
      form: { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwtAssertion(key, endpoints.oauthToken, now()) },
    }, {}, signal, false);
    return tokenOf(answer, 'OAuth2Token', now());
  }, now);
}

/** The metadata server's token of the node's (or GKE workload's) service account. */
export function metadataServerSource(endpoints: GoogleEndpoints, transport: TokenTransport): AccessTokenSource {
  const now = transport.now ?? Date.now;
  return new CachedTokenSource(async (signal) => {
    const url = new URL(`http://${endpoints.metadataHost}/computeMetadata/v1/instance/service-accounts/default/token`);
    let answer;
    try {
      answer = await exchange({ url, method: 'GET', headers: { 'metadata-flavor': 'Google' }, agent: agents.http, limits: transport.limits, signal });
    } catch (err) {
      if (signal.aborted) throw err;
      throw networkError('GCP metadata server token (default credentials: no auth in the store, no GOOGLE_APPLICATION_CREDENTIALS)', endpoints.metadataHost, err);
    }
    if (answer.status !== 200) throw new ProviderError('BadCredentials', `GCP metadata server token: HTTP ${answer.status} from ${endpoints.metadataHost}`);
    let j: unknown;
    try {
      j = JSON.parse(answer.text);
    } catch {
      throw new ProviderError('Unknown', `GCP metadata server token: the answer of ${endpoints.metadataHost} is not JSON`);
    }
    return tokenOf((j ?? {}) as Record<string, unknown>, 'metadata server token', now());
  }, now);
}

/** Reads one value of the metadata server (project id, cluster name and location). */
export async function metadataValue(path: string, endpoints: GoogleEndpoints, transport: TokenTransport, signal?: AbortSignal): Promise<string> {
  const url = new URL(`http://${endpoints.metadataHost}/computeMetadata/v1/${path}`);
  let answer;
  try {
    answer = await exchange({ url, method: 'GET', headers: { 'metadata-flavor': 'Google' }, agent: agents.http, limits: transport.limits, signal });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw networkError(`GCP metadata server ${path}`, endpoints.metadataHost, err);
  }
  if (answer.status !== 200 || answer.text.trim() === '') throw new ProviderError('InvalidRequest', `GCP metadata server ${path}: HTTP ${answer.status} from ${endpoints.metadataHost}`);
  return answer.text.trim().slice(0, 256);
}

/**
 * Exchanges a Kubernetes ServiceAccount token for a Google token: at securetoken (GKE workload
 * identity, ESO's identitybindingtoken call) or at STS (workload identity federation).
 */
export async function exchangeSubjectToken(
  via: 'secureToken' | 'sts',
  subjectToken: string,
  audience: string,
  endpoints: GoogleEndpoints,
  transport: TokenTransport,
  signal?: AbortSignal,
): Promise<AccessToken> {
  const now = transport.now ?? Date.now;
  const fields = {
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
    subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
    requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    subject_token: subjectToken,
    audience,
    scope: CLOUD_PLATFORM_SCOPE,
  };
  const answer = via === 'secureToken'
    ? await postToGoogle(transport, 'GenerateIDBindToken', endpoints.secureToken, { json: fields }, {}, signal, true)
    : await postToGoogle(transport, 'STSTokenExchange', endpoints.sts, { form: fields }, {}, signal, true);
  return tokenOf(answer, via === 'secureToken' ? 'GenerateIDBindToken' : 'STSTokenExchange', now());
}

/** IAM Credentials generateAccessToken: a Google service account's token, with `bearer` as caller. */
export async function impersonate(email: string, bearer: string, endpoints: GoogleEndpoints, transport: TokenTransport, signal?: AbortSignal): Promise<AccessToken> {
  const now = transport.now ?? Date.now;
  const url = `${trimTrailingSlashes(endpoints.iamCredentials)}/v1/projects/-/serviceAccounts/${encodeURIComponent(email)}:generateAccessToken`;
  const answer = await postToGoogle(transport, 'GenerateAccessToken', url, { json: { scope: [CLOUD_PLATFORM_SCOPE] } }, { authorization: `Bearer ${bearer}`}, signal, true);
  return tokenOf(answer, 'GenerateAccessToken', now());
}
