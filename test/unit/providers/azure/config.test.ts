import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authorityHost, validateAzureConfig, type AzureKVProvider } from '../../../../src/providers/azure/config.ts';
import { azureControllerIdentity } from '../../../../src/providers/azure/index.ts';

const sp = { vaultUrl: 'https://v.vault.azure.net', tenantId: 't', authSecretRef: { clientId: { name: 's', key: 'id' }, clientSecret: { name: 's', key: 'secret' } } };

test('a ServicePrincipal store needs tenantId, clientId and exactly one of clientSecret and clientCertificate', () => {
  assert.deepEqual(validateAzureConfig(sp), []);
  assert.deepEqual(validateAzureConfig({ ...sp, tenantId: undefined }), ['spec.provider.azurekv.tenantId: is required for authType ServicePrincipal']);
  assert.deepEqual(validateAzureConfig({ vaultUrl: sp.vaultUrl, tenantId: 't' }), ['spec.provider.azurekv.authSecretRef: is required for authType ServicePrincipal']);
  assert.deepEqual(validateAzureConfig({ ...sp, authSecretRef: { clientId: sp.authSecretRef.clientId } }), ['spec.provider.azurekv.authSecretRef: clientSecret or clientCertificate is required for authType ServicePrincipal']);
  assert.deepEqual(validateAzureConfig({ ...sp, authSecretRef: { ...sp.authSecretRef, clientCertificate: { name: 's', key: 'pem' } } }), ['spec.provider.azurekv.authSecretRef: clientSecret and clientCertificate are mutually exclusive']);
  assert.deepEqual(validateAzureConfig({ ...sp, authSecretRef: { ...sp.authSecretRef, clientSecret: { name: 's' } } }), ['spec.provider.azurekv.authSecretRef.clientSecret.key: is required']);
});

test('vaultUrl and the authority must be https; custom clouds need useAzureSDK, as in ESO', () => {
  assert.deepEqual(validateAzureConfig({ ...sp, vaultUrl: 'http://v.vault.azure.net' }), ['spec.provider.azurekv.vaultUrl: must use https']);
  assert.deepEqual(validateAzureConfig({ ...sp, vaultUrl: 'https://u:p@v' }), ['spec.provider.azurekv.vaultUrl: must not carry credentials']);
  assert.deepEqual(validateAzureConfig({ ...sp, customCloudConfig: { activeDirectoryEndpoint: 'https://login.example' } }), [
    'spec.provider.azurekv.customCloudConfig: requires useAzureSDK: true (as ESO: the legacy SDK has no custom clouds)',
  ]);
  assert.deepEqual(validateAzureConfig({ ...sp, useAzureSDK: true, customCloudConfig: { activeDirectoryEndpoint: 'http://login.example' } }), [
    'spec.provider.azurekv.customCloudConfig.activeDirectoryEndpoint: must use https',
  ]);
  assert.deepEqual(validateAzureConfig({ ...sp, environmentType: 'AzureStackCloud' }), ['spec.provider.azurekv.customCloudConfig: is required when environmentType is AzureStackCloud']);
  assert.match(validateAzureConfig({ ...sp, authType: 'Magic' }).join('\n'), /spec\.provider\.azurekv\.authType/);
});

test('the authority host follows environmentType, or customCloudConfig', () => {
  assert.equal(authorityHost(sp as AzureKVProvider), 'https://login.microsoftonline.com');
  assert.equal(authorityHost({ ...sp, environmentType: 'ChinaCloud' } as AzureKVProvider), 'https://login.chinacloudapi.cn');
  assert.equal(authorityHost({ ...sp, environmentType: 'USGovernmentCloud' } as AzureKVProvider), 'https://login.microsoftonline.us');
  assert.equal(authorityHost({ ...sp, useAzureSDK: true, customCloudConfig: { activeDirectoryEndpoint: 'https://login.stack.local/' } } as AzureKVProvider), 'https://login.stack.local');
});

test("ManagedIdentity, and WorkloadIdentity without serviceAccountRef, act as the controller", () => {
  assert.equal(azureControllerIdentity(sp as AzureKVProvider), undefined);
  assert.equal(azureControllerIdentity({ vaultUrl: sp.vaultUrl, authType: 'ManagedIdentity' } as AzureKVProvider)?.field, 'spec.provider.azurekv.authType');
  assert.equal(azureControllerIdentity({ vaultUrl: sp.vaultUrl, authType: 'WorkloadIdentity' } as AzureKVProvider)?.field, 'spec.provider.azurekv.serviceAccountRef');
  assert.equal(azureControllerIdentity({ vaultUrl: sp.vaultUrl, authType: 'WorkloadIdentity', serviceAccountRef: { name: 'sa' } } as AzureKVProvider), undefined);
});
