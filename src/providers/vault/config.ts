// spec.provider.vault of an external-secrets.io SecretStore: the types are the generated API types
// (src/api), the checks here are the semantic ones the schema cannot express.
import type * as api from '../../api/types.generated.ts';
import { schemaProblems, type Validated } from '../common/config.ts';
import { checkCAProvider } from '../common/ca-provider.ts';

export type VaultKVStoreVersion = NonNullable<api.VaultProvider['version']>;
export type ServiceAccountSelector = api.ServiceAccountSelector;
/** spec.provider.vault as the provider reads it: the generated type, selectors named. */
export type VaultProvider = Validated<api.VaultProvider>;
export type VaultAuth = NonNullable<VaultProvider['auth']>;

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

/** A selector the provider reads must name its Secret (and key, where no default applies). */
function checkSelector(problems: string[], path: string, sel: unknown, opts: { required: boolean; keyRequired: boolean }): void {
  if (sel === undefined || sel === null) {
    if (opts.required) problems.push(`${path}: is required`);
    return;
  }
  if (!isObject(sel)) return; // the schema reports the type
  if (sel.name === undefined || sel.name === '') problems.push(`${path}.name: is required`);
  if (opts.keyRequired && (sel.key === undefined || sel.key === '')) problems.push(`${path}.key: is required`);
}

function checkAudiences(problems: string[], path: string, audiences: unknown): void {
  if (Array.isArray(audiences) && audiences.some((a) => a === '')) problems.push(`${path}: must be a list of non-empty strings`);
}

/** The auth methods set in spec.provider.vault.auth (null and absent members ignored). */
export function configuredAuthMethods(auth: unknown): VaultAuthMethod[] {
  if (!isObject(auth)) return [];
  return vaultAuthMethods.filter((m) => auth[m] !== undefined && auth[m] !== null);
}

/**
 * Checks of spec.provider.vault: the schema's (types, enums, required fields, formats), then the
 * semantic ones; every problem names its field.
 */
// eslint-disable-next-line complexity -- one check per field of ESO's VaultProvider; semantic checks only (the schema does the rest)
export function validateVaultConfig(config: unknown): string[] {
  const problems = schemaProblems('vault', config);
  if (!isObject(config)) return problems;
  const c = config;

  if (typeof c.server === 'string' && c.server === '') {
    problems.push(`${field}.server: is required`);
  } else if (typeof c.server === 'string') {
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
  if (typeof c.path === 'string' && c.path.startsWith('/')) {
    problems.push(`${field}.path: must be a mount path without a leading slash, e.g. "secret"`);
  }
  checkCAProvider(problems, `${field}.caProvider`, c.caProvider);
  if (isObject(c.tls)) {
    checkSelector(problems, `${field}.tls.certSecretRef`, c.tls.certSecretRef, { required: false, keyRequired: false });
    checkSelector(problems, `${field}.tls.keySecretRef`, c.tls.keySecretRef, { required: false, keyRequired: false });
    const hasCert = isObject(c.tls.certSecretRef);
    const hasKey = isObject(c.tls.keySecretRef);
    if (hasCert !== hasKey) problems.push(`${field}.tls: certSecretRef and keySecretRef must be set together`);
  }

  const auth = c.auth;
  if (auth === undefined || auth === null) {
    problems.push(`${field}.auth: is required (one of ${vaultAuthMethods.join(', ')})`);
    return problems;
  }
  if (!isObject(auth)) return problems;
  const methods = configuredAuthMethods(auth);
  if (methods.length === 0) problems.push(`${field}.auth: one of ${vaultAuthMethods.join(', ')} is required`);
  if (methods.length > 1) problems.push(`${field}.auth: only one method may be set, found ${methods.join(', ')}`);
  const a = `${field}.auth`;
  for (const m of methods) {
    const v = auth[m];
    if (unsupportedAuthMethods.has(m)) {
      problems.push(`${a}.${m}: is not supported by tessera (see docs/providers/vault.md)`);
      continue;
    }
    if (!isObject(v)) continue;
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
        if (v.role === '') problems.push(`${a}.kubernetes.role: is required`);
        if (isObject(v.serviceAccountRef)) checkAudiences(problems, `${a}.kubernetes.serviceAccountRef.audiences`, v.serviceAccountRef.audiences);
        checkSelector(problems, `${a}.kubernetes.secretRef`, v.secretRef, { required: false, keyRequired: false });
        break;
      case 'jwt': {
        const sat = v.kubernetesServiceAccountToken;
        if (!isObject(v.secretRef) && !isObject(sat)) problems.push(`${a}.jwt: one of secretRef or kubernetesServiceAccountToken is required`);
        checkSelector(problems, `${a}.jwt.secretRef`, v.secretRef, { required: false, keyRequired: true });
        if (isObject(sat)) {
          if (isObject(sat.serviceAccountRef)) checkAudiences(problems, `${a}.jwt.kubernetesServiceAccountToken.serviceAccountRef.audiences`, sat.serviceAccountRef.audiences);
          checkAudiences(problems, `${a}.jwt.kubernetesServiceAccountToken.audiences`, sat.audiences);
        }
        break;
      }
      case 'cert':
        checkSelector(problems, `${a}.cert.clientCert`, v.clientCert, { required: true, keyRequired: true });
        checkSelector(problems, `${a}.cert.secretRef`, v.secretRef, { required: true, keyRequired: true });
        break;
      case 'userPass':
      case 'ldap':
        if (v.username === '') problems.push(`${a}.${m}.username: is required`);
        checkSelector(problems, `${a}.${m}.secretRef`, v.secretRef, { required: true, keyRequired: true });
        break;
    }
  }
  return problems;
}


