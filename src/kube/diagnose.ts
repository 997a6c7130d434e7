// Why a list or watch failed, in words an operator can act on. A failing informer otherwise
// retries silently forever: a missing RBAC rule, an expired token or an unreachable apiserver
// looks exactly like an empty cluster. This module turns the error into a category, a one-line
// summary (for /readyz), the cause chain and what to fix (for the error log), and rate-limits
// the log so that a retry loop cannot flood it.
//
// Nothing here may carry a credential: ApiError messages are the apiserver's Status text (which
// names users and resources, never tokens), Node's transport errors name hosts and codes, and
// the server URL is printed without any user-info part.
import { STATUS_CODES } from 'node:http';
import { ApiError } from './client.ts';

export type FailureCategory = 'forbidden' | 'unauthorized' | 'unreachable' | 'dns' | 'tls' | 'gone' | 'apiserver' | 'other';

export interface ApiFailureContext {
  /** What was asked for, e.g. "externalsecrets.external-secrets.io". */
  resource: string;
  /** "all namespaces" or "namespace x". */
  scope: string;
  verb: 'list' | 'watch';
  /** The apiserver URL the client talks to. */
  server: string;
}

export interface ApiFailureDiagnosis {
  category: FailureCategory;
  /** Short: "403 Forbidden", "connection refused". Used in /readyz. */
  summary: string;
  /** What to do about it; absent when there is nothing specific to say. */
  fix?: string;
  /** The apiserver's status code, when it answered. */
  code?: number;
  /** The user the apiserver saw ("system:serviceaccount:ns:name"), when its answer names it. */
  user?: string;
  /** Messages of the error and its causes, outermost first. */
  causes: string[];
  /** error: someone must act; warn: transient or unknown; debug: routine (410 Gone re-list). */
  level: 'error' | 'warn' | 'debug';
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER', 'EPROTO', 'ERR_TLS_HANDSHAKE_TIMEOUT',
]);
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME']);
const CONNECT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET', 'ERR_STREAM_PREMATURE_CLOSE']);

/** The URL without user-info, query or fragment: what may be printed of a server address. */
export function printableServer(server: string): string {
  try {
    const u = new URL(server);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '<invalid server URL>';
  }
}

/** Every error in the chain (cause, AggregateError members), outermost first, at most 8. */
function errorsInChain(err: unknown): unknown[] {
  const out: unknown[] = [];
  const visit = (e: unknown, depth: number) => {
    if (e === undefined || e === null || out.length >= 8 || depth > 5 || out.includes(e)) return;
    out.push(e);
    if (e instanceof AggregateError) for (const inner of e.errors) visit(inner, depth + 1);
    if (e instanceof Error && 'cause' in e) visit(e.cause, depth + 1);
  };
  visit(err, 0);
  return out;
}

function codeOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The cause chain as printable lines: "message" or "CODE: message". */
export function causeChain(err: unknown): string[] {
  return errorsInChain(err).map((e) => {
    if (!(e instanceof Error)) return String(e);
    const code = codeOf(e);
    const msg = e.message || e.name;
    return code && !msg.includes(code) ? `${code}: ${msg}` : msg;
  });
}

/** The user an apiserver Forbidden message names: `User "system:serviceaccount:a:b" cannot …`. */
export function forbiddenUser(message: string | undefined): string | undefined {
  return /\bUser "([^"]{1,300})" cannot\b/.exec(message ?? '')?.[1];
}

export function diagnoseApiFailure(err: unknown, ctx: ApiFailureContext): ApiFailureDiagnosis {
  const causes = causeChain(err);
  const server = printableServer(ctx.server);
  if (err instanceof ApiError) {
    const code = err.code;
    const summary = `${code} ${err.reason || STATUS_CODES[code] || 'Error'}`;
    if (code === 403) {
      const user = forbiddenUser(err.status?.message);
      const who = user ? ` to ${user}` : ' to the controller\'s ServiceAccount';
      return {
        category: 'forbidden', summary, code, causes, level: 'error', ...(user ? { user } : {}),
        fix: `grant ${ctx.verb} on ${ctx.resource} (${ctx.scope})${who} (see deploy/ RBAC: deploy/rbac/clusterrole.yaml)`,
      };
    }
    if (code === 401) {
      return {
        category: 'unauthorized', summary, code, causes, level: 'error',
        fix: `the apiserver ${server} did not accept the controller's credentials: the token or client certificate is invalid or expired (in a cluster: check the ServiceAccount exists and its token is mounted; with a kubeconfig: renew its credentials)`,
      };
    }
    if (code === 410) return { category: 'gone', summary, code, causes, level: 'debug' };
    if (code === 404) {
      return {
        category: 'apiserver', summary, code, causes, level: 'error',
        fix: `the apiserver does not serve ${ctx.resource}: install the CRDs (deploy/crds) or check the API version`,
      };
    }
    return { category: 'apiserver', summary, code, causes, level: 'warn' };
  }
  const codes = errorsInChain(err).map(codeOf).filter((c): c is string => c !== undefined);
  if (codes.some((c) => TLS_CODES.has(c))) {
    return {
      category: 'tls', summary: `TLS handshake with ${server} failed (${codes.find((c) => TLS_CODES.has(c))})`, causes, level: 'error',
      fix: `check the apiserver CA (certificate-authority in the kubeconfig, or the mounted ServiceAccount ca.crt) and that ${server} is the name its certificate is issued for`,
    };
  }
  if (codes.some((c) => DNS_CODES.has(c))) {
    return {
      category: 'dns', summary: `cannot resolve ${server} (${codes.find((c) => DNS_CODES.has(c))})`, causes, level: 'error',
      fix: `check the server URL in the kubeconfig or KUBERNETES_SERVICE_HOST, and the cluster DNS`,
    };
  }
  const connect = codes.find((c) => CONNECT_CODES.has(c));
  if (connect) {
    return {
      category: 'unreachable', summary: `cannot connect to ${server} (${connect})`, causes, level: 'error',
      fix: `check that the apiserver ${server} is up and reachable from the controller (network policies, proxies, the server URL)`,
    };
  }
  return { category: 'other', summary: causes[0] ?? 'unknown error', causes, level: 'warn' };
}

/**
 * Rate limit of failure logs per key (one informer): the first failure of a streak is logged at
 * once, then at most one line per interval, carrying how many failures it stands for.
 */
export class FailureLogLimiter {
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly state = new Map<string, { lastLoggedAt: number; suppressed: number }>();

  constructor(intervalMs: number, now: () => number = Date.now) {
    this.intervalMs = intervalMs;
    this.now = now;
  }

  /** Whether to log this failure, and how many failures since the last line were not logged. */
  admit(key: string): { log: boolean; suppressed: number } {
    const t = this.now();
    const s = this.state.get(key);
    if (!s || t - s.lastLoggedAt >= this.intervalMs) {
      const suppressed = s?.suppressed ?? 0;
      this.state.set(key, { lastLoggedAt: t, suppressed: 0 });
      return { log: true, suppressed };
    }
    s.suppressed++;
    return { log: false, suppressed: s.suppressed };
  }

  /** The streak ended (the watch recovered): the next failure is logged at once. Was one logged? */
  reset(key: string): boolean {
    return this.state.delete(key);
  }
}
