// spec.provider.azurekv (ESO's AzureKVProvider), in its own file so each provider's schema can be
// read (and merged) on its own. Field names, enums and defaults follow ESO 2.9: v1 adds
// AzureStackCloud, customCloudConfig and useAzureSDK to v1beta1's shape.
import type { ApiVersionName } from './constants.ts';
import { bool, enumOf, named, obj, str, type Schema } from './openapi.ts';
import { secretKeySelector, serviceAccountSelector } from './schema.ts';

const ENVIRONMENTS_V1BETA1 = ['PublicCloud', 'USGovernmentCloud', 'ChinaCloud', 'GermanCloud'];

export function azureKVProvider(version: ApiVersionName): Schema {
  const v1 = version === 'v1';
  return named('AzureKVProvider', obj({
    authType: enumOf(['ServicePrincipal', 'ManagedIdentity', 'WorkloadIdentity'], 'Auth type defines how to authenticate to the keyvault service.', { default: 'ServicePrincipal' }),
    'vaultUrl!': str('Vault Url from which the secrets to be fetched from.'),
    tenantId: str('TenantID configures the Azure Tenant to send requests to. Required for ServicePrincipal auth type. Optional for WorkloadIdentity.'),
    environmentType: enumOf(v1 ? [...ENVIRONMENTS_V1BETA1, 'AzureStackCloud'] : ENVIRONMENTS_V1BETA1,
      'EnvironmentType specifies the Azure cloud environment endpoints to use for connecting and authenticating with Azure.', { default: 'PublicCloud' }),
    authSecretRef: named('AzureKVAuth', obj({
      clientId: secretKeySelector('The Azure clientId of the service principle or managed identity used for authentication.'),
      tenantId: secretKeySelector('The Azure tenantId of the managed identity used for authentication.'),
      clientSecret: secretKeySelector('The Azure ClientSecret of the service principle used for authentication.'),
      clientCertificate: secretKeySelector('The Azure ClientCertificate of the service principle used for authentication.'),
    }, 'Auth configures how the operator authenticates with Azure. Required for ServicePrincipal auth type. Optional for WorkloadIdentity.')),
    serviceAccountRef: serviceAccountSelector('ServiceAccountRef specified the service account that should be used when authenticating with WorkloadIdentity.'),
    identityId: str('If multiple Managed Identity is assigned to the pod, you can select the one to be used'),
    ...(v1
      ? {
          useAzureSDK: bool('UseAzureSDK enables the use of the new Azure SDK for Go (azcore-based) instead of the legacy go-autorest SDK.', { default: false }),
          customCloudConfig: named('AzureCustomCloudConfig', obj({
            'activeDirectoryEndpoint!': str('ActiveDirectoryEndpoint is the AAD endpoint for authentication'),
            keyVaultEndpoint: str('KeyVaultEndpoint is the Key Vault service endpoint'),
            keyVaultDNSSuffix: str('KeyVaultDNSSuffix is the DNS suffix for Key Vault URLs'),
            resourceManagerEndpoint: str('ResourceManagerEndpoint is the Azure Resource Manager endpoint'),
          }, 'CustomCloudConfig defines custom Azure endpoints for non-standard clouds. Required when EnvironmentType is AzureStackCloud.')),
        }
      : {}),
  }, 'AzureKV configures this store to sync secrets using Azure Key Vault provider'));
}
