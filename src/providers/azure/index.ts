// spec.provider.azurekv: Azure Key Vault secrets, keys and certificates through the official
// Azure SDK for JS, authenticated with Entra ID (see docs/providers/azure.md). The SDK loads
// lazily, on the first azurekv store.
import { ProviderError } from '../provider.ts';
import type { Provider, ProviderClient, ProviderContext } from '../provider.ts';
import { callLimits } from '../common/http.ts';
import { field, validateAzureConfig, type AzureKVProvider } from './config.ts';
import { buildCredential } from './credentials.ts';
import { AzureKeyVaultClient } from './client.ts';
import { LimitedHttpClient } from './http-client.ts';

export type { AzureKVProvider } from './config.ts';
export { validateAzureConfig } from './config.ts';

/**
 * The SDK clients' own retries: two more attempts, quickly, so a dead vault fails a reconcile in
 * seconds and the controller's backoff takes over.
 */
const RETRY_OPTIONS = { maxRetries: 2, retryDelayInMs: 200, maxRetryDelayInMs: 2000 };

export async function newAzureClient(config: AzureKVProvider, ctx: ProviderContext): Promise<ProviderClient> {
  const problems = validateAzureConfig(config);
  if (problems.length > 0) throw new ProviderError('InvalidRequest', problems.join('; '));
  const limits = callLimits(ctx.callDeadlineMs);
  const http = new LimitedHttpClient(limits);
  try {
    const [identity, secrets, keys, certificates] = await Promise.all([
      import('@azure/identity'),
      import('@azure/keyvault-secrets'),
      import('@azure/keyvault-keys'),
      import('@azure/keyvault-certificates'),
    ]);
    const credential = await buildCredential(identity, config, ctx, http);
    const options = {
      httpClient: http,
      retryOptions: RETRY_OPTIONS,
      // The vault's 401 challenge names the resource to get a token for, and the SDK checks that
      // it matches the vault's domain. vaultUrl is tenant-written: without that check, a store
      // pointing at a host of the tenant's would be answered with a challenge for Key Vault and
      // receive the operator's own token (ManagedIdentity, WorkloadIdentity). The check is off
      // only for hosts the operator lists (Azure Stack, private endpoints, test servers).
      disableChallengeResourceVerification: challengeCheckWaived(new URL(config.vaultUrl).hostname, ctx.env ?? process.env),
    };
    return new AzureKeyVaultClient({
      vaultUrl: config.vaultUrl,
      secrets: new secrets.SecretClient(config.vaultUrl, credential, options),
      keys: new keys.KeyClient(config.vaultUrl, credential, options),
      certificates: new certificates.CertificateClient(config.vaultUrl, credential, options),
      http,
      limits,
      onApiCall: ctx.onApiCall,
    });
  } catch (err) {
    http.close();
    throw err;
  }
}

export const azureProvider: Provider<AzureKVProvider> = {
  name: 'azurekv',
  validateConfig: (config) => validateAzureConfig(config),
  // status.capabilities as ESO 2.9 reports it for this provider (Tessera itself only reads).
  capabilities: () => 'ReadWrite',
  newClient: newAzureClient,
  controllerIdentity: (config) => azureControllerIdentity(config),
};

/**
 * ManagedIdentity is always the controller's own (its pod's identity), and WorkloadIdentity
 * without serviceAccountRef uses the controller's AZURE_FEDERATED_TOKEN_FILE: either way the store
 * acts as the controller.
 */
export function azureControllerIdentity(config: AzureKVProvider): { field: string; uses: string } | undefined {
  const authType = config?.authType ?? 'ServicePrincipal';
  if (authType === 'ManagedIdentity') return { field: `${field}.authType`, uses: "the controller pod's managed identity (authType ManagedIdentity)" };
  if (authType === 'WorkloadIdentity' && !config.serviceAccountRef) {
    return { field: `${field}.serviceAccountRef`, uses: "the controller's own federated token (AZURE_FEDERATED_TOKEN_FILE; authType WorkloadIdentity without serviceAccountRef)" };
  }
  return undefined;
}

/**
 * TESSERA_AZURE_VAULT_HOSTS: comma-separated host names (exact) whose vaults may answer with a
 * challenge for another domain. Set by the operator's deployment, never by a store.
 */
export function challengeCheckWaived(host: string, env: Record<string, string | undefined>): boolean {
  return (env.TESSERA_AZURE_VAULT_HOSTS ?? '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean).includes(host.toLowerCase());
}
