// spec.provider.vault of an external-secrets.io SecretStore, field for field as ESO's
// apis/externalsecrets/v1/secretstore_vault_types.go. Kept local to the provider (as aws/config.ts)
// so the generated API types may replace it later without renaming a field.
import type { SecretKeySelector } from '../provider.ts';
import { checkCAProvider, type CAProvider } from '../common/ca-provider.ts';

export type VaultKVStoreVersion = 'v1' | 'v2';

export interface ServiceAccountSelector {
  name: string;
  namespace?: string | undefined;
  audiences?: string[] | undefined;
}

export interface VaultClientTLS {
  /** Client certificate (PEM); key defaults to tls.crt. */
  certSecretRef?: SecretKeySelector | undefined;
  /** Client private key (PEM); key defaults to tls.key. */
  keySecretRef?: SecretKeySelector | undefined;
}

export interface VaultAppRole {
  path?: string | undefined;
  roleId?: string | undefined;
  roleRef?: SecretKeySelector | undefined;
  secretRef: SecretKeySelector;
}

export interface VaultKubernetesAuth {
  mountPath?: string | undefined;
  serviceAccountRef?: ServiceAccountSelector | undefined;
  secretRef?: SecretKeySelector | undefined;
  role: string;
}

export interface VaultKubernetesServiceAccountTokenAuth {
  serviceAccountRef: ServiceAccountSelector;
  /** Deprecated in ESO: serviceAccountRef.audiences wins. */
  audiences?: string[] | undefined;
  /** Deprecated in ESO; the TokenRequest here uses the cluster's default lifetime. */
  expirationSeconds?: number | undefined;
}

export interface VaultJwtAuth {
  path?: string | undefined;
  role?: string | undefined;
  secretRef?: SecretKeySelector | undefined;
  kubernetesServiceAccountToken?: VaultKubernetesServiceAccountTokenAuth | undefined;
}

export interface VaultCertAuth {
  path?: string | undefined;
  clientCert?: SecretKeySelector | undefined;
  secretRef?: SecretKeySelector | undefined;
}

export interface VaultUserPassAuth {
  path?: string | undefined;
  username: string;
  secretRef?: SecretKeySelector | undefined;
}

export interface VaultLdapAuth {
  path?: string | undefined;
  username: string;
  secretRef?: SecretKeySelector | undefined;
}

export interface VaultAuth {
  namespace?: string | undefined;
  tokenSecretRef?: SecretKeySelector | undefined;
  appRole?: VaultAppRole | undefined;
  kubernetes?: VaultKubernetesAuth | undefined;
  ldap?: VaultLdapAuth | undefined;
  jwt?: VaultJwtAuth | undefined;
  cert?: VaultCertAuth | undefined;
  userPass?: VaultUserPassAuth | undefined;
  /** Not supported by tessera (see docs/providers/vault.md). */
  iam?: unknown;
  gcp?: unknown;
}

export interface VaultProvider {
  auth?: VaultAuth | undefined;
  server: string;
  /** Mount path of the KV engine, e.g. "secret". */
  path?: string | undefined;
  version?: VaultKVStoreVersion | undefined;
  namespace?: string | undefined;
  /** PEM CA bundle, base64-encoded as the CRD's []byte field is. */
  caBundle?: string | undefined;
  tls?: VaultClientTLS | undefined;
  caProvider?: CAProvider | undefined;
  readYourWrites?: boolean | undefined;
  forwardInconsistent?: boolean | undefined;
  headers?: Record<string, string> | undefined;
  checkAndSet?: { required?: boolean | undefined } | undefined;
}

/** The auth methods of ESO's VaultAuth, in the order ESO tries them. */
export const vaultAuthMethods = ['tokenSecretRef', 'appRole', 'kubernetes', 'ldap', 'jwt', 'cert', 'iam', 'userPass', 'gcp'] as const;
export type VaultAuthMethod = (typeof vaultAuthMethods)[number];
export const unsupportedAuthMethods: ReadonlySet<VaultAuthMethod> = new Set(['iam', 'gcp']);

/** Default mount path of each login method, as ESO's kubebuilder defaults. */
export const defaultMountPath: Record<'appRole' | 'kubernetes' | 'ldap' | 'jwt' | 'cert' | 'userPass', string> = {
  appRole: 'approle',
  kubernetes: 'kubernetes',
  ldap: 'ldap',
  jwt: 'jwt',
  cert: 'cert',
  userPass: 'userpass',
};

const field = 'spec.provider.vault';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkSelector(problems: string[], path: string, sel: unknown, opts: { required: boolean; keyRequired: boolean }): void {
  if (sel === undefined || sel === null) {
    if (opts.required) problems.push(`${path}: is required`);
    return;
  }
  if (!isObject(sel)) {
    problems.push(`${path}: must be an object with name and key`);
    return;
  }
  if (typeof sel.name !== 'string' || sel.name === '') problems.push(`${path}.name: is required`);
  if (opts.keyRequired && (typeof sel.key !== 'string' || sel.key === '')) problems.push(`${path}.key: is required`);
  if (sel.key !== undefined && typeof sel.key !== 'string') problems.push(`${path}.key: must be a string`);
  if (sel.namespace !== undefined && typeof sel.namespace !== 'string') problems.push(`${path}.namespace: must be a string`);
}

function checkServiceAccount(problems: string[], path: string, sa: unknown): void {
  if (!isObject(sa)) {
    problems.push(`${path}: must be an object with a name`);
    return;
  }
  if (typeof sa.name !== 'string' || sa.name === '') problems.push(`${path}.name: is required`);
  if (sa.audiences !== undefined && (!Array.isArray(sa.audiences) || sa.audiences.some((a) => typeof a !== 'string' || a === ''))) {
    problems.push(`${path}.audiences: must be a list of non-empty strings`);
  }
}

/** The auth methods set in spec.provider.vault.auth (null and absent members ignored). */
export function configuredAuthMethods(auth: unknown): VaultAuthMethod[] {
  if (!isObject(auth)) return [];
  return vaultAuthMethods.filter((m) => auth[m] !== undefined && auth[m] !== null);
}

/** Static checks of spec.provider.vault; every problem names its field. */
// eslint-disable-next-line complexity -- field-by-field checks that issue 10 item 8 replaces with the compiled schema (semantic checks only); split what remains then
export function validateVaultConfig(config: unknown): string[] {
  const problems: string[] = [];
  if (!isObject(config)) return [`${field}: must be an object`];
  const c = config;

  if (typeof c.server !== 'string' || c.server === '') {
    problems.push(`${field}.server: is required`);
  } else {
    let url: URL | undefined;
    try {
      url = new URL(c.server);
    } catch {
      problems.push(`${field}.server: ${JSON.stringify(c.server)} is not a URL`);
    }
    if (url && url.protocol !== 'http:' && url.protocol !== 'https:') problems.push(`${field}.server: must be an http or https URL`);
    // Request paths are appended to the server URL: a query or fragment would swallow them and
    // let the store choose any path of any host the controller can reach.
    if (url && (url.search !== '' || url.hash !== '' || c.server.includes('#') || c.server.includes('?'))) problems.push(`${field}.server: must not contain a query or fragment`);
  }
  if (c.version !== undefined && c.version !== 'v1' && c.version !== 'v2') {
    problems.push(`${field}.version: must be v1 or v2 (got ${JSON.stringify(c.version)})`);
  }
  if (c.path !== undefined && (typeof c.path !== 'string' || c.path.startsWith('/'))) {
    problems.push(`${field}.path: must be a mount path without a leading slash, e.g. "secret"`);
  }
  if (c.namespace !== undefined && typeof c.namespace !== 'string') problems.push(`${field}.namespace: must be a string`);
  if (c.caBundle !== undefined && c.caBundle !== '') {
    if (typeof c.caBundle !== 'string' || !/^[A-Za-z0-9+/=\s]+$/.test(c.caBundle)) problems.push(`${field}.caBundle: must be base64-encoded PEM`);
  }
  checkCAProvider(problems, `${field}.caProvider`, c.caProvider);
  if (c.tls !== undefined && c.tls !== null) {
    if (!isObject(c.tls)) {
      problems.push(`${field}.tls: must be an object`);
    } else {
      checkSelector(problems, `${field}.tls.certSecretRef`, c.tls.certSecretRef, { required: false, keyRequired: false });
      checkSelector(problems, `${field}.tls.keySecretRef`, c.tls.keySecretRef, { required: false, keyRequired: false });
      const hasCert = isObject(c.tls.certSecretRef);
      const hasKey = isObject(c.tls.keySecretRef);
      if (hasCert !== hasKey) problems.push(`${field}.tls: certSecretRef and keySecretRef must be set together`);
    }
  }
  if (c.headers !== undefined && c.headers !== null) {
    if (!isObject(c.headers) || Object.values(c.headers).some((v) => typeof v !== 'string')) problems.push(`${field}.headers: must map header names to strings`);
  }

  const auth = c.auth;
  if (auth === undefined || auth === null) {
    problems.push(`${field}.auth: is required (one of ${vaultAuthMethods.join(', ')})`);
    return problems;
  }
  if (!isObject(auth)) {
    problems.push(`${field}.auth: must be an object`);
    return problems;
  }
  const methods = configuredAuthMethods(auth);
  if (methods.length === 0) problems.push(`${field}.auth: one of ${vaultAuthMethods.join(', ')} is required`);
  if (methods.length > 1) problems.push(`${field}.auth: only one method may be set, found ${methods.join(', ')}`);
  if (auth.namespace !== undefined && typeof auth.namespace !== 'string') problems.push(`${field}.auth.namespace: must be a string`);
  const a = `${field}.auth`;
  for (const m of methods) {
    const v = auth[m];
    if (unsupportedAuthMethods.has(m)) {
      problems.push(`${a}.${m}: is not supported by tessera (see docs/providers/vault.md)`);
      continue;
    }
    if (!isObject(v)) {
      problems.push(`${a}.${m}: must be an object`);
      continue;
    }
    if (v.path !== undefined && typeof v.path !== 'string') problems.push(`${a}.${m}.path: must be a string`);
    switch (m) {
      case 'tokenSecretRef':
        checkSelector(problems, `${a}.tokenSecretRef`, v, { required: true, keyRequired: true });
        break;
      case 'appRole':
        if ((typeof v.roleId !== 'string' || v.roleId === '') && !isObject(v.roleRef)) problems.push(`${a}.appRole: one of roleId or roleRef is required`);
        checkSelector(problems, `${a}.appRole.roleRef`, v.roleRef, { required: false, keyRequired: true });
        checkSelector(problems, `${a}.appRole.secretRef`, v.secretRef, { required: true, keyRequired: true });
        break;
      case 'kubernetes':
        if (typeof v.role !== 'string' || v.role === '') problems.push(`${a}.kubernetes.role: is required`);
        if (v.mountPath !== undefined && typeof v.mountPath !== 'string') problems.push(`${a}.kubernetes.mountPath: must be a string`);
        if (v.serviceAccountRef !== undefined && v.serviceAccountRef !== null) checkServiceAccount(problems, `${a}.kubernetes.serviceAccountRef`, v.serviceAccountRef);
        checkSelector(problems, `${a}.kubernetes.secretRef`, v.secretRef, { required: false, keyRequired: false });
        break;
      case 'jwt': {
        if (v.role !== undefined && typeof v.role !== 'string') problems.push(`${a}.jwt.role: must be a string`);
        const sat = v.kubernetesServiceAccountToken;
        if (!isObject(v.secretRef) && !isObject(sat)) problems.push(`${a}.jwt: one of secretRef or kubernetesServiceAccountToken is required`);
        checkSelector(problems, `${a}.jwt.secretRef`, v.secretRef, { required: false, keyRequired: true });
        if (isObject(sat)) {
          checkServiceAccount(problems, `${a}.jwt.kubernetesServiceAccountToken.serviceAccountRef`, sat.serviceAccountRef);
          if (sat.audiences !== undefined && (!Array.isArray(sat.audiences) || sat.audiences.some((x) => typeof x !== 'string' || x === ''))) {
            problems.push(`${a}.jwt.kubernetesServiceAccountToken.audiences: must be a list of non-empty strings`);
          }
        }
        break;
      }
      case 'cert':
        checkSelector(problems, `${a}.cert.clientCert`, v.clientCert, { required: true, keyRequired: true });
        checkSelector(problems, `${a}.cert.secretRef`, v.secretRef, { required: true, keyRequired: true });
        break;
      case 'userPass':
      case 'ldap':
        if (typeof v.username !== 'string' || v.username === '') problems.push(`${a}.${m}.username: is required`);
        checkSelector(problems, `${a}.${m}.secretRef`, v.secretRef, { required: true, keyRequired: true });
        break;
    }
  }
  return problems;
}


