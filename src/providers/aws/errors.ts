// Maps AWS SDK and network failures onto the provider error catalog. Messages name the service,
// operation, key and AWS error code, never a secret value: the AWS message is added only for
// service errors (which describe the request, not the payload) and is cut short.
import { NotFoundError, PROVIDER_ERROR_WORDS, ProviderError } from '../provider.ts';
import type { ProviderErrorKind } from '../provider.ts';
import { CallLimitError } from '../common/http.ts';

/** Where a failure happened, for the message. */
export interface AwsCallSite {
  /** "SecretsManager", "ParameterStore" or "STS". */
  service: string;
  /** The API operation, e.g. "GetSecretValue". */
  operation: string;
  /** The remote key (with prefix and version selector) when the call was about one key. */
  key?: string | undefined;
}

const notFoundCodes = new Set(['ResourceNotFoundException', 'ParameterNotFound', 'ParameterVersionNotFound', 'InvalidResourceId']);
const accessDeniedCodes = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'UnauthorizedOperation',
  'UnauthorizedException',
  'DecryptionFailure', // the KMS key behind the secret refuses to decrypt for this principal
  'KMSAccessDeniedException',
]);
const badCredentialsCodes = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'IncompleteSignatureException',
  'MissingAuthenticationToken',
  'MissingAuthenticationTokenException',
  'InvalidClientTokenId',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidAccessKeyId',
  'InvalidIdentityToken',
  'IDPRejectedClaim',
  'IDPCommunicationError',
  'CredentialsProviderError',
  'AuthFailure',
]);
const throttledCodes = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'TooManyRequests',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'LimitExceededException',
  'SlowDown',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
]);
const unreachableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ECONNABORTED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'AbortError',
]);
const invalidRequestCodes = new Set([
  'ValidationException',
  'InvalidParameterException',
  'InvalidRequestException',
  'InvalidParameterValue',
  'InvalidParameterCombination',
  'InvalidNextTokenException',
  'InvalidFilterKey',
  'InvalidFilterOption',
  'InvalidFilterValue',
  'InvalidKeyId',
  'ParameterVersionLabelLimitExceeded',
  'UnsupportedParameterType',
  'MalformedPolicyDocument',
  'PackedPolicyTooLarge',
  'RegionDisabledException',
]);

/** The AWS error code (or Node network code) carried by an error, if any. */
export function awsErrorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { name?: unknown; code?: unknown; Code?: unknown; cause?: unknown; $metadata?: unknown; errors?: unknown };
  // Node network errors: code on the error, or on its cause (undici), or on an AggregateError member.
  if (typeof e.code === 'string' && /^[A-Z_]+$/.test(e.code)) return e.code;
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const c = awsErrorCode(inner);
      if (c) return c;
    }
  }
  if (typeof e.Code === 'string' && e.Code !== '') return e.Code;
  if (typeof e.name === 'string' && e.name !== '' && e.name !== 'Error') return e.name;
  if (e.cause !== undefined && e.cause !== err) return awsErrorCode(e.cause);
  return undefined;
}

function httpStatus(err: unknown): number | undefined {
  const m = (err as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata;
  return typeof m?.httpStatusCode === 'number' ? m.httpStatusCode : undefined;
}

function isServiceError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && '$fault' in err && '$metadata' in err;
}

/** Classifies an AWS error code / HTTP status; exported for tests and for batch error entries. */
export function classifyAws(code: string | undefined, status?: number, message?: string): ProviderErrorKind {
  if (code !== undefined) {
    if (notFoundCodes.has(code)) return 'NotFound';
    // A secret scheduled for deletion is gone as far as readers are concerned (as ESO treats it).
    if ((code === 'InvalidRequestException' || code === 'InvalidParameterException') && message && /marked for deletion/i.test(message)) {
      return 'NotFound';
    }
    if (accessDeniedCodes.has(code)) return 'AccessDenied';
    if (badCredentialsCodes.has(code)) return 'BadCredentials';
    if (throttledCodes.has(code)) return 'Throttled';
    if (unreachableCodes.has(code)) return 'Unreachable';
    if (invalidRequestCodes.has(code)) return 'InvalidRequest';
  }
  if (status === 429) return 'Throttled';
  if (status === 401) return 'BadCredentials';
  if (status === 403) return 'AccessDenied';
  if (status === 502 || status === 503 || status === 504) return 'Unreachable';
  return 'Unknown';
}


function safeDetail(message: string): string {
  const oneLine = message.replace(/\s+/g, ' ').trim();
  return oneLine.length > 240 ? `${oneLine.slice(0, 240)}…` : oneLine;
}

/** Builds the message for a failure at `site`: `AWS SecretsManager GetSecretValue "db/pass": not found (ResourceNotFoundException)`. */
export function awsErrorMessage(site: AwsCallSite, kind: ProviderErrorKind, code: string | undefined, detail?: string): string {
  const where = `AWS ${site.service} ${site.operation}${site.key !== undefined ? ` ${JSON.stringify(site.key)}` : ''}`;
  const tail = code ? ` (${code}${detail ? `: ${safeDetail(detail)}` : ''})` : detail ? ` (${safeDetail(detail)})` : '';
  return `${where}: ${PROVIDER_ERROR_WORDS[kind]}${tail}`;
}

/** Wraps any failure of an AWS call into a ProviderError (a NotFoundError for missing keys). */
export function toProviderError(err: unknown, site: AwsCallSite): ProviderError {
  if (err instanceof ProviderError) return err;
  if (err instanceof CallLimitError) return new ProviderError('Unreachable', awsErrorMessage(site, 'Unreachable', undefined, err.message), { cause: err });
  const code = awsErrorCode(err);
  const status = httpStatus(err);
  const rawMessage = err instanceof Error ? err.message : undefined;
  const kind = classifyAws(code, status, rawMessage);
  // Service errors describe the request (names, ARNs, principals); network errors name the endpoint.
  // Other errors may come from response parsing, so their text is left out.
  const describable = isServiceError(err) || (kind === 'Unreachable' && code !== undefined) || code === 'CredentialsProviderError';
  const detail = describable ? rawMessage : undefined;
  const message = awsErrorMessage(site, kind, code ?? (status !== undefined ? `HTTP ${status}` : undefined), kind === 'NotFound' ? undefined : detail);
  // The cause is kept only when it is one of those: an SDK parsing error may carry the raw response.
  const options = describable ? { cause: err } : undefined;
  if (kind === 'NotFound') return new NotFoundError(message, options);
  return new ProviderError(kind, message, options);
}

/** An error entry of a batch response (BatchGetSecretValue Errors[]) as a ProviderError. */
export function batchEntryError(site: AwsCallSite, code: string | undefined, message: string | undefined): ProviderError {
  const kind = classifyAws(code, undefined, message);
  const text = awsErrorMessage(site, kind, code, kind === 'NotFound' ? undefined : message);
  return kind === 'NotFound' ? new NotFoundError(text) : new ProviderError(kind, text);
}
