// Maps gRPC failures of Secret Manager calls onto the provider error catalog. Messages name the
// operation, the secret (never its value) and Google's status with its own detail text, cut short.
// NotFound only for Google's NOT_FOUND: the one answer that confirms a secret or version is absent.
import { NotFoundError, ProviderError } from '../provider.ts';
import type { ProviderErrorKind } from '../provider.ts';
import { formatBytes } from '../common/http.ts';

/** gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
const statusNames: Record<number, string> = {
  1: 'CANCELLED', 2: 'UNKNOWN', 3: 'INVALID_ARGUMENT', 4: 'DEADLINE_EXCEEDED', 5: 'NOT_FOUND', 6: 'ALREADY_EXISTS',
  7: 'PERMISSION_DENIED', 8: 'RESOURCE_EXHAUSTED', 9: 'FAILED_PRECONDITION', 10: 'ABORTED', 11: 'OUT_OF_RANGE',
  12: 'UNIMPLEMENTED', 13: 'INTERNAL', 14: 'UNAVAILABLE', 15: 'DATA_LOSS', 16: 'UNAUTHENTICATED',
};

const kinds: Record<number, ProviderErrorKind> = {
  3: 'InvalidRequest', 4: 'Unreachable', 5: 'NotFound', 7: 'AccessDenied', 8: 'Throttled', 9: 'InvalidRequest',
  11: 'InvalidRequest', 14: 'Unreachable', 16: 'BadCredentials',
};

export interface GcpCallSite {
  operation: string;
  /** The secret key (with @version) or the list parent. */
  target?: string | undefined;
}

function detailOf(err: { details?: unknown; message?: unknown }): string {
  const raw = typeof err.details === 'string' && err.details !== '' ? err.details : typeof err.message === 'string' ? err.message : '';
  const one = raw.slice(0, 400).replace(/\s+/g, ' ').trim();
  return one.length > 200 ? `${one.slice(0, 200)}…` : one;
}

/** A failed gRPC call as a ProviderError. `maxResponseBytes` names the cap when the answer was cut. */
export function toProviderError(err: unknown, site: GcpCallSite, maxResponseBytes: number): ProviderError {
  if (err instanceof ProviderError) return err;
  const where = `GCP SecretManager ${site.operation}${site.target !== undefined ? ` ${JSON.stringify(site.target)}` : ''}`;
  const e = (err ?? {}) as { code?: unknown; details?: unknown; message?: unknown };
  const code = typeof e.code === 'number' ? e.code : undefined;
  if (code === undefined) {
    return new ProviderError('Unknown', `${where}: ${detailOf(e) || 'failed'}`, { cause: err });
  }
  const detail = detailOf(e);
  // grpc-js reports an answer over grpc.max_receive_message_length as RESOURCE_EXHAUSTED: not
  // Google throttling us, but an answer past our cap.
  if (code === 8 && /larger than max/i.test(detail)) {
    return new ProviderError('Unknown', `${where}: the answer exceeds the response size cap of ${formatBytes(maxResponseBytes)}; the call was cut off`, { cause: err });
  }
  const status = statusNames[code] ?? `code ${code}`;
  const message = `${where}: ${status}${detail ? `: ${detail}` : ''}`;
  const kind = kinds[code] ?? 'Unknown';
  return kind === 'NotFound' ? new NotFoundError(message, { cause: err }) : new ProviderError(kind, message, { cause: err });
}
