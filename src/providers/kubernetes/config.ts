// spec.provider.kubernetes of an external-secrets.io SecretStore, as ESO's
// apis/externalsecrets/v1/secretstore_kubernetes_types.go.
import type { SecretKeySelector } from '../provider.ts';
import type { ServiceAccountSelector } from '../../api/types.generated.ts';
import { checkCAProvider, type CAProvider } from '../common/ca-provider.ts';

export interface KubernetesServer {
  /** API server URL; the cluster the operator runs in when empty. */
  url?: string | undefined;
  /** PEM CA bundle, base64-encoded as the CRD's []byte field is. */
  caBundle?: string | undefined;
  caProvider?: CAProvider | undefined;
}

export interface KubernetesAuth {
  cert?: { clientCert?: SecretKeySelector | undefined; clientKey?: SecretKeySelector | undefined } | undefined;
  token?: { bearerToken?: SecretKeySelector | undefined } | undefined;
  serviceAccount?: ServiceAccountSelector | undefined;
}

export interface KubernetesProvider {
  server?: KubernetesServer | undefined;
  auth?: KubernetesAuth | undefined;
  /** A kubeconfig in a Secret key (server, CA and credentials of its current context). */
  authRef?: SecretKeySelector | undefined;
  /** Namespace the Secrets are read from; "default" when empty. */
  remoteNamespace?: string | undefined;
}

const field = 'spec.provider.kubernetes';
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkSelector(problems: string[], path: string, sel: unknown): void {
  if (!isObject(sel)) {
    problems.push(`${path}: is required`);
    return;
  }
  if (typeof sel.name !== 'string' || sel.name === '') problems.push(`${path}.name: is required`);
  if (typeof sel.key !== 'string' || sel.key === '') problems.push(`${path}.key: is required`);
}

// eslint-disable-next-line complexity -- field-by-field checks that issue 10 item 8 replaces with the compiled schema (semantic checks only); split what remains then
export function validateKubernetesConfig(config: unknown): string[] {
  const problems: string[] = [];
  if (!isObject(config)) return [`${field}: must be an object`];
  const c = config;
  if (c.remoteNamespace !== undefined && c.remoteNamespace !== '' && (typeof c.remoteNamespace !== 'string' || !DNS1123_LABEL.test(c.remoteNamespace) || c.remoteNamespace.length > 63)) {
    problems.push(`${field}.remoteNamespace: ${JSON.stringify(c.remoteNamespace)} is not a namespace name`);
  }
  if (c.server !== undefined && c.server !== null) {
    if (!isObject(c.server)) {
      problems.push(`${field}.server: must be an object`);
    } else {
      const s = c.server;
      if (s.url !== undefined && s.url !== '') {
        let url: URL | undefined;
        try {
          url = new URL(String(s.url));
        } catch {
          problems.push(`${field}.server.url: ${JSON.stringify(s.url)} is not a URL`);
        }
        if (url && url.protocol !== 'https:' && url.protocol !== 'http:') problems.push(`${field}.server.url: must be an https URL`);
        // Request paths are appended to the URL: a query or fragment would swallow them.
        if (url && /[?#]/.test(String(s.url))) problems.push(`${field}.server.url: must not contain a query or fragment`);
      }
      if (s.caBundle !== undefined && s.caBundle !== '' && (typeof s.caBundle !== 'string' || !/^[A-Za-z0-9+/=\s]+$/.test(s.caBundle))) {
        problems.push(`${field}.server.caBundle: must be base64-encoded PEM`);
      }
      checkCAProvider(problems, `${field}.server.caProvider`, s.caProvider);
    }
  }
  const auth = isObject(c.auth) ? c.auth : undefined;
  if (c.auth !== undefined && c.auth !== null && !auth) problems.push(`${field}.auth: must be an object`);
  const methods = auth ? (['cert', 'token', 'serviceAccount'] as const).filter((m) => auth[m] !== undefined && auth[m] !== null) : [];
  const hasAuthRef = c.authRef !== undefined && c.authRef !== null;
  if (methods.length === 0 && !hasAuthRef) problems.push(`${field}: one of auth.cert, auth.token, auth.serviceAccount or authRef is required`);
  if (methods.length > 1) problems.push(`${field}.auth: only one method may be set, found ${methods.join(', ')}`);
  if (methods.length > 0 && hasAuthRef) problems.push(`${field}: auth and authRef are mutually exclusive`);
  if (hasAuthRef) checkSelector(problems, `${field}.authRef`, c.authRef);
  if (auth) {
    if (isObject(auth.cert)) {
      checkSelector(problems, `${field}.auth.cert.clientCert`, auth.cert.clientCert);
      checkSelector(problems, `${field}.auth.cert.clientKey`, auth.cert.clientKey);
    } else if (auth.cert !== undefined && auth.cert !== null) problems.push(`${field}.auth.cert: must be an object`);
    if (isObject(auth.token)) checkSelector(problems, `${field}.auth.token.bearerToken`, auth.token.bearerToken);
    else if (auth.token !== undefined && auth.token !== null) problems.push(`${field}.auth.token: must be an object`);
    if (auth.serviceAccount !== undefined && auth.serviceAccount !== null) {
      const sa = auth.serviceAccount;
      if (!isObject(sa) || typeof sa.name !== 'string' || sa.name === '') problems.push(`${field}.auth.serviceAccount.name: is required`);
      else if (sa.audiences !== undefined && (!Array.isArray(sa.audiences) || sa.audiences.some((a) => typeof a !== 'string' || a === ''))) {
        problems.push(`${field}.auth.serviceAccount.audiences: must be a list of non-empty strings`);
      }
    }
  }
  return problems;
}
