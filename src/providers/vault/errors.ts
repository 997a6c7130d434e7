// Maps Vault HTTP answers and network failures onto the provider error catalog. Messages name the
// operation, the Vault path and the HTTP status with Vault's own error text (which describes the
// request: "permission denied", "invalid role or secret ID"), never a secret value or a token.
import { NotFoundError, ProviderError } from '../provider.ts';
import type { ProviderErrorKind } from '../provider.ts';
import { networkError } from '../common/http.ts';

/** Where a failure happened. `operation` is ESO's metric call name (Login, ReadSecretData, …). */
export interface VaultCallSite {
  operation: string;
  /** The Vault API path (without /v1/). */
  path?: string | undefined;
}


const kindWords: Record<ProviderErrorKind, string> = {
  NotFound: 'not found',
  AccessDenied: 'permission denied',
  BadCredentials: 'credentials rejected',
  Throttled: 'throttled',
  Unreachable: 'server unreachable',
  InvalidRequest: 'invalid request',
  Unknown: 'failed',
};

function safeDetail(errors: readonly string[]): string {
  const oneLine = errors
    // The text comes from the server (tenant-chosen): cut it before the RegExps, which retry at
    // every character of a long run of digits or spaces (quadratic); only 200 characters are kept.
    .map((e) => e.slice(0, 1000).replace(/\d+ errors? occurred:/g, '').replace(/\s*\*\s*/g, ' '))
    .join('; ')
    .replace(/\s+/g, ' ')
    .trim();
  return oneLine.length > 200 ? `${oneLine.slice(0, 200)}…` : oneLine;
}

function where(site: VaultCallSite): string {
  return `Vault ${site.operation}${site.path !== undefined ? ` ${JSON.stringify(site.path)}` : ''}`;
}

/** True when Vault's errors say the server is sealed (any HTTP status). */
export function isSealed(errors: readonly string[]): boolean {
  return errors.some((e) => /\bsealed\b/i.test(e));
}

/**
 * The kind of a Vault HTTP error. A 403 is AccessDenied here; the client tells an invalid token
 * apart (BadCredentials) with a lookup-self, since Vault answers both with "permission denied".
 * Login endpoints answer bad credentials with 400 or 403, so `login` turns those into BadCredentials.
 */
export function classifyVault(status: number, errors: readonly string[], login = false): ProviderErrorKind {
  if (isSealed(errors)) return 'Unreachable';
  if (login && (status === 400 || status === 401 || status === 403)) return 'BadCredentials';
  if (status === 404) return 'NotFound';
  if (status === 401) return 'BadCredentials';
  if (status === 403) return errors.some((e) => /invalid token|token.*(expired|revoked)/i.test(e)) ? 'BadCredentials' : 'AccessDenied';
  if (status === 429) return 'Throttled';
  // 412: read-your-writes state not yet replicated; 5xx: server trouble. Both worth a retry.
  if (status === 502 || status === 503 || status === 504) return 'Unreachable';
  if (status === 400 || status === 405) return 'InvalidRequest';
  return 'Unknown';
}

export function vaultHttpError(site: VaultCallSite, status: number, errors: readonly string[], kind: ProviderErrorKind = classifyVault(status, errors)): ProviderError {
  const detail = safeDetail(errors);
  let words = kindWords[kind];
  if (kind === 'Unreachable' && isSealed(errors)) words = 'server is sealed';
  if (kind === 'NotFound' && errors.some((e) => /no handler for route|route entry not found/i.test(e))) words = 'not found (no secrets engine or auth method mounted at this path)';
  const message = `${where(site)}: ${words} (HTTP ${status}${detail && kind !== 'NotFound' ? `: ${detail}` : ''})`;
  return kind === 'NotFound' ? new NotFoundError(message) : new ProviderError(kind, message);
}

/** A network or TLS failure, a passed deadline or an oversized answer (no usable HTTP answer). */
export function vaultNetworkError(site: VaultCallSite, server: string, err: unknown): ProviderError {
  return networkError(where(site), server, err);
}
