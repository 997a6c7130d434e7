// spec.provider.azurekv of an external-secrets.io SecretStore: the types are the generated API
// types (src/api/schema-azurekv.ts); the checks here are the semantic ones ESO makes in its
// ValidateStore and when it builds a client, each naming the field.
import type * as api from '../../api/types.generated.ts';
import { schemaProblems, type Validated } from '../common/config.ts';

export type AzureKVProvider = Validated<api.AzureKVProvider>;
export type AzureAuthType = NonNullable<api.AzureKVProvider['authType']>;
export type AzureEnvironmentType = NonNullable<api.AzureKVProvider['environmentType']>;

export const field = 'spec.provider.azurekv';

/**
 * Entra ID (Azure AD) authority hosts per environment, as ESO's go-autorest environments name
 * them. Key Vault's own host needs no table: the vault's 401 challenge names the resource.
 */
export const authorityHosts: Record<Exclude<AzureEnvironmentType, 'AzureStackCloud'>, string> = {
  PublicCloud: 'https://login.microsoftonline.com',
  USGovernmentCloud: 'https://login.microsoftonline.us',
  ChinaCloud: 'https://login.chinacloudapi.cn',
  GermanCloud: 'https://login.microsoftonline.de',
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkSelector(problems: string[], path: string, sel: unknown): void {
  if (!isObject(sel)) return;
  if (sel.name === undefined || sel.name === '') problems.push(`${path}.name: is required`);
  if (sel.key === undefined || sel.key === '') problems.push(`${path}.key: is required`);
}

function checkHttpsUrl(problems: string[], path: string, v: unknown): void {
  if (typeof v !== 'string') return; // the schema reports the type
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    problems.push(`${path}: must be an absolute https URL`);
    return;
  }
  // Credentials and bearer tokens go there: never in clear text.
  if (url.protocol !== 'https:') problems.push(`${path}: must use https`);
  if (url.username !== '' || url.password !== '') problems.push(`${path}: must not carry credentials`);
}

/** The schema's problems, then the semantic ones. */
export function validateAzureConfig(config: unknown): string[] {
  const problems = schemaProblems('azurekv', config);
  if (!isObject(config)) return problems;
  const c = config as Partial<AzureKVProvider>;
  checkHttpsUrl(problems, `${field}.vaultUrl`, c.vaultUrl);
  const auth = c.authSecretRef;
  for (const k of ['clientId', 'tenantId', 'clientSecret', 'clientCertificate'] as const) {
    if (isObject(auth)) checkSelector(problems, `${field}.authSecretRef.${k}`, auth[k]);
  }
  const authType = c.authType ?? 'ServicePrincipal';
  if (authType === 'ServicePrincipal') {
    if (!c.tenantId) problems.push(`${field}.tenantId: is required for authType ServicePrincipal`);
    if (!isObject(auth)) problems.push(`${field}.authSecretRef: is required for authType ServicePrincipal`);
    else {
      if (!auth.clientId) problems.push(`${field}.authSecretRef.clientId: is required for authType ServicePrincipal`);
      if (!auth.clientSecret && !auth.clientCertificate) problems.push(`${field}.authSecretRef: clientSecret or clientCertificate is required for authType ServicePrincipal`);
      if (auth.clientSecret && auth.clientCertificate) problems.push(`${field}.authSecretRef: clientSecret and clientCertificate are mutually exclusive`);
    }
  }
  const custom = c.customCloudConfig;
  if (isObject(custom)) {
    if (c.useAzureSDK !== true) problems.push(`${field}.customCloudConfig: requires useAzureSDK: true (as ESO: the legacy SDK has no custom clouds)`);
    checkHttpsUrl(problems, `${field}.customCloudConfig.activeDirectoryEndpoint`, custom.activeDirectoryEndpoint);
  }
  if (c.environmentType === 'AzureStackCloud' && !isObject(custom)) problems.push(`${field}.customCloudConfig: is required when environmentType is AzureStackCloud`);
  return problems;
}

/** The Entra ID authority host the store's credentials authenticate against. */
export function authorityHost(config: AzureKVProvider): string {
  if (config.customCloudConfig?.activeDirectoryEndpoint) return config.customCloudConfig.activeDirectoryEndpoint.replace(/\/+$/, '');
  const env = config.environmentType ?? 'PublicCloud';
  return env === 'AzureStackCloud' ? authorityHosts.PublicCloud : authorityHosts[env];
}
