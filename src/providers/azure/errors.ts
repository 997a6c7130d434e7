// Maps Azure SDK failures (Key Vault's RestError, Entra ID's AuthenticationError, network and
// limit errors) onto the provider error catalog. Messages name the operation, the object and the
// service's error code, never a value: Key Vault and Entra ID error texts describe the request
// (names, tenants, AADSTS codes), and are cut short anyway.
import { NotFoundError, PROVIDER_ERROR_WORDS, ProviderError } from '../provider.ts';
import type { ProviderErrorKind } from '../provider.ts';
import { CallLimitError, networkError } from '../common/http.ts';

/** ESO's provider label of externalsecret_provider_api_calls_count. */
export const METRIC_PROVIDER = 'Azure/KeyVault';

/** Where a failure happened, for the message. */
export interface AzureCallSite {
  /** ESO's operation name: GetSecret, GetSecrets, GetKey, GetCertificate. */
  operation: string;
  /** The object as the ExternalSecret names it (with its secret/, key/ or cert/ prefix). */
  key?: string | undefined;
  vaultUrl: string;
}

/** Key Vault's error codes for an object (or version) that does not exist. */
const notFoundCodes = new Set(['SecretNotFound', 'KeyNotFound', 'CertificateNotFound', 'ObjectNotFound']);

interface ErrorFields {
  name?: unknown;
  code?: unknown;
  statusCode?: unknown;
  errorResponse?: { error?: unknown; errorDescription?: unknown } | undefined;
  cause?: unknown;
  message?: unknown;
}

function fields(err: unknown): ErrorFields {
  return typeof err === 'object' && err !== null ? (err as ErrorFields) : {};
}

/** A Node network code anywhere in the cause chain (the pipeline may wrap the socket's error). */
function networkCode(err: unknown, depth = 0): string | undefined {
  const e = fields(err);
  if (typeof e.code === 'string' && /^(E[A-Z_]+|ERR_[A-Z_]+|UND_ERR_[A-Z_]+|CERT_[A-Z_]+|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_[A-Z_]+)$/.test(e.code)) return e.code;
  return depth < 5 && e.cause !== undefined && e.cause !== err ? networkCode(e.cause, depth + 1) : undefined;
}

function limitError(err: unknown, depth = 0): CallLimitError | undefined {
  if (err instanceof CallLimitError) return err;
  const cause = fields(err).cause;
  return depth < 5 && cause !== undefined && cause !== err ? limitError(cause, depth + 1) : undefined;
}

/** Classifies a Key Vault answer: HTTP status plus Key Vault's error code. Exported for tests. */
export function classifyKeyVault(status: number | undefined, code: string | undefined): ProviderErrorKind {
  // A 404 is a not-found only when Key Vault says which object is missing: a 404 without such
  // a code (a proxy, a wrong vaultUrl path) must not delete anyone's Secret.
  if (status === 404 && code !== undefined && notFoundCodes.has(code)) return 'NotFound';
  if (status === 401) return 'BadCredentials';
  if (status === 403) return 'AccessDenied';
  if (status === 429) return 'Throttled';
  if (status === 400 || status === 404 || status === 405 || status === 409) return 'InvalidRequest';
  if (status === 502 || status === 503 || status === 504) return 'Unreachable';
  return 'Unknown';
}


function oneLine(s: string, max = 240): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

function where(site: AzureCallSite): string {
  return `Azure KeyVault ${site.operation}${site.key !== undefined ? ` ${JSON.stringify(site.key)}` : ''}`;
}

/** The OAuth error of an Entra ID failure: identity's errorResponse, or MSAL's ServerError below it. */
function oauthError(err: unknown, depth = 0): { code?: string; status?: number; description?: string } {
  const e = fields(err) as ErrorFields & { errorCode?: unknown; status?: unknown };
  const code = typeof e.errorResponse?.error === 'string' ? e.errorResponse.error : typeof e.errorCode === 'string' && e.errorCode !== '' ? e.errorCode : undefined;
  const status = typeof e.statusCode === 'number' ? e.statusCode : typeof e.status === 'number' ? e.status : undefined;
  // Entra ID's own words start with an AADSTS code; the rest (trace ids, timestamps) is noise.
  const text = typeof e.errorResponse?.errorDescription === 'string' ? e.errorResponse.errorDescription : typeof e.message === 'string' ? e.message : '';
  const description = /AADSTS\d+:[^\r\n]*/.exec(text)?.[0];
  const own = { ...(code !== undefined ? { code } : {}), ...(status !== undefined ? { status } : {}), ...(description !== undefined ? { description } : {}) };
  if (code !== undefined && description !== undefined) return own;
  const below = depth < 5 && e.cause !== undefined && e.cause !== err ? oauthError(e.cause, depth + 1) : {};
  return { ...below, ...own };
}

/** An Entra ID failure (the token request), as a ProviderError. */
function entraError(err: unknown, at: string): ProviderError {
  const { code, status, description } = oauthError(err);
  const net = networkCode(err);
  if (net !== undefined && code === undefined) {
    return networkError(`${at}: Entra ID token request`, 'the authority host', Object.assign(new Error(net), { code: net }));
  }
  // invalid_client, unauthorized_client, invalid_grant...: Entra ID refused the credentials.
  const kind: ProviderErrorKind = status !== undefined && status >= 500 ? 'Unreachable' : status === 429 ? 'Throttled' : 'BadCredentials';
  const detail = [code ?? (status !== undefined ? `HTTP ${status}` : 'no answer'), description !== undefined ? oneLine(description) : ''].filter(Boolean).join(': ');
  return new ProviderError(kind, `${at}: Entra ID token request ${PROVIDER_ERROR_WORDS[kind]} (${detail})`);
}

/** A Key Vault answer with an error status, as a ProviderError (NotFoundError when confirmed). */
function keyVaultError(status: number, codeField: unknown, message: unknown, at: string): ProviderError {
  const code = typeof codeField === 'string' && codeField !== '' ? codeField : undefined;
  const kind = classifyKeyVault(status, code);
  const label = code !== undefined ? `${code} ${status}` : `HTTP ${status}`;
  // Key Vault's message describes the request ("A secret with (name/id) x was not found in
  // this key vault"); the not-found message is ours alone, as the other providers word it.
  const detail = kind === 'NotFound' ? '' : `: ${oneLine(String(message ?? ''))}`;
  const text = `${at}: ${PROVIDER_ERROR_WORDS[kind]} (${label}${detail})`;
  return kind === 'NotFound' ? new NotFoundError(text) : new ProviderError(kind, text);
}

/** Wraps any failure of an Azure call into a ProviderError (a NotFoundError for missing objects). */
export function toProviderError(err: unknown, site: AzureCallSite): ProviderError {
  if (err instanceof ProviderError) return err;
  const at = where(site);
  const limit = limitError(err);
  if (limit) return networkError(at, site.vaultUrl, limit);
  const e = fields(err);
  const name = typeof e.name === 'string' ? e.name : '';
  if (name === 'CredentialUnavailableError') {
    // MSAL reports an authority it cannot reach (its metadata, its token endpoint) this way.
    const msg = String(e.message ?? '');
    const unreachable = /\b(endpoints_resolution_error|network_error|openid_config_error|untrusted_authority)\b/.exec(msg)?.[1];
    if (unreachable !== undefined) return new ProviderError('Unreachable', `${at}: Entra ID authority unreachable (${unreachable})`);
    return new ProviderError('BadCredentials', `${at}: no credential available (${oneLine(String(e.message ?? ''))})`);
  }
  if (name === 'AuthenticationError' || name === 'AuthenticationRequiredError') return entraError(err, at);
  if (name === 'RestError' && typeof e.statusCode === 'number') return keyVaultError(e.statusCode, e.code, e.message, at);
  const net = networkCode(err);
  if (net !== undefined) return networkError(at, site.vaultUrl, Object.assign(new Error(oneLine(String(e.message ?? net), 160)), { code: net }));
  // Anything else (a parse error of an answer, say) may quote the answer: its text is left out.
  return new ProviderError('Unknown', `${at}: ${PROVIDER_ERROR_WORDS.Unknown} (${name || 'Error'})`);
}
