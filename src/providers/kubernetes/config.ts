// spec.provider.kubernetes of an external-secrets.io SecretStore: the types are the generated API
// types (src/api), the checks here are the semantic ones the schema cannot express.
import type * as api from '../../api/types.generated.ts';
import { schemaProblems, type Validated } from '../common/config.ts';
import { checkCAProvider } from '../common/ca-provider.ts';

/** spec.provider.kubernetes as the provider reads it: the generated type, selectors named. */
export type KubernetesProvider = Validated<api.KubernetesProvider>;
export type KubernetesServer = NonNullable<KubernetesProvider['server']>;
export type KubernetesAuth = NonNullable<KubernetesProvider['auth']>;

const field = 'spec.provider.kubernetes';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A selector the provider reads must name its Secret and key (ESO's schema leaves both optional). */
function checkSelector(problems: string[], path: string, sel: unknown): void {
  if (sel === undefined || sel === null) {
    problems.push(`${path}: is required`);
    return;
  }
  if (!isObject(sel)) return; // the schema reports the type
  if (sel.name === undefined || sel.name === '') problems.push(`${path}.name: is required`);
  if (sel.key === undefined || sel.key === '') problems.push(`${path}.key: is required`);
}

/**
 * Checks of spec.provider.kubernetes: the schema's (types, patterns such as remoteNamespace's,
 * formats such as caBundle's, required fields), then the semantic ones.
 */
export function validateKubernetesConfig(config: unknown): string[] {
  const problems = schemaProblems('kubernetes', config);
  if (!isObject(config)) return problems;
  const c = config;
  if (isObject(c.server)) {
    const s = c.server;
    if (typeof s.url === 'string' && s.url !== '') {
      let url: URL | undefined;
      try {
        url = new URL(s.url);
      } catch {
        problems.push(`${field}.server.url: ${JSON.stringify(s.url)} is not a URL`);
      }
      if (url && url.protocol !== 'https:' && url.protocol !== 'http:') problems.push(`${field}.server.url: must be an https URL`);
      // Request paths are appended to the URL: a query or fragment would swallow them.
      if (url && /[?#]/.test(s.url)) problems.push(`${field}.server.url: must not contain a query or fragment`);
    }
    checkCAProvider(problems, `${field}.server.caProvider`, s.caProvider);
  }
  const auth = isObject(c.auth) ? c.auth : undefined;
  const methods = auth ? (['cert', 'token', 'serviceAccount'] as const).filter((m) => auth[m] !== undefined && auth[m] !== null) : [];
  const hasAuthRef = c.authRef !== undefined && c.authRef !== null;
  if (methods.length === 0 && !hasAuthRef) problems.push(`${field}: one of auth.cert, auth.token, auth.serviceAccount or authRef is required`);
  // More than one method: the schema's maxProperties says so.
  if (methods.length > 0 && hasAuthRef) problems.push(`${field}: auth and authRef are mutually exclusive`);
  if (hasAuthRef) checkSelector(problems, `${field}.authRef`, c.authRef);
  if (auth) {
    if (isObject(auth.cert)) {
      checkSelector(problems, `${field}.auth.cert.clientCert`, auth.cert.clientCert);
      checkSelector(problems, `${field}.auth.cert.clientKey`, auth.cert.clientKey);
    }
    if (isObject(auth.token)) checkSelector(problems, `${field}.auth.token.bearerToken`, auth.token.bearerToken);
    if (isObject(auth.serviceAccount) && Array.isArray(auth.serviceAccount.audiences) && auth.serviceAccount.audiences.some((a) => a === '')) {
      problems.push(`${field}.auth.serviceAccount.audiences: must be a list of non-empty strings`);
    }
  }
  return problems;
}
