// The Entra ID credential of an azurekv store, per authType, as ESO builds it:
//   ServicePrincipal  tenantId + authSecretRef.clientId + clientSecret or clientCertificate (PEM)
//   ManagedIdentity   the pod's managed identity (IMDS), identityId choosing among several
//   WorkloadIdentity  a TokenRequest token of serviceAccountRef as a federated client assertion
//                     (client and tenant ids from authSecretRef, the store, or the ServiceAccount's
//                     azure.workload.identity/* annotations), or without serviceAccountRef the
//                     controller's own AZURE_CLIENT_ID / AZURE_TENANT_ID / AZURE_FEDERATED_TOKEN_FILE.
// Every credential sends through the store's LimitedHttpClient, so Entra ID calls have the same
// deadline, size cap and trust as Key Vault calls.
import { readFile } from 'node:fs/promises';
import type { TokenCredential } from '@azure/core-auth';
import type { HttpClient } from '@azure/core-rest-pipeline';
import { ProviderError } from '../provider.ts';
import type { ProviderContext, SecretKeySelector } from '../provider.ts';
import { authorityHost, field, type AzureKVProvider } from './config.ts';

/** ESO's audience for the federated token exchange. */
export const AZURE_DEFAULT_AUDIENCE = 'api://AzureADTokenExchange';
export const ANNOTATION_CLIENT_ID = 'azure.workload.identity/client-id';
export const ANNOTATION_TENANT_ID = 'azure.workload.identity/tenant-id';

type Identity = typeof import('@azure/identity');

async function readKey(ctx: ProviderContext, ref: SecretKeySelector, path: string): Promise<string> {
  try {
    return await ctx.readSecretKey(ref);
  } catch (err) {
    if (err instanceof ProviderError) throw new ProviderError(err.kind, `${path}: ${err.message}`, { cause: err });
    throw new ProviderError('BadCredentials', `${path}: could not read Secret ${JSON.stringify(ref.name)}`, { cause: err });
  }
}

/** Options every credential shares: the authority, the HTTP client, few quick retries. */
function credentialOptions(config: AzureKVProvider, httpClient: HttpClient) {
  return {
    authorityHost: authorityHost(config),
    httpClient,
    retryOptions: { maxRetries: 1, retryDelayInMs: 200, maxRetryDelayInMs: 1000 },
    // A private authority (customCloudConfig, Azure Stack) is not known to the public cloud's
    // instance discovery: asking it would fail, and would leak the authority's name.
    ...(config.customCloudConfig ? { disableInstanceDiscovery: true } : {}),
  };
}

export async function buildCredential(identity: Identity, config: AzureKVProvider, ctx: ProviderContext, httpClient: HttpClient): Promise<TokenCredential> {
  const options = credentialOptions(config, httpClient);
  const authType = config.authType ?? 'ServicePrincipal';
  switch (authType) {
    case 'ServicePrincipal': {
      const auth = config.authSecretRef!;
      const clientId = (await readKey(ctx, auth.clientId!, `${field}.authSecretRef.clientId`)).trim();
      if (auth.clientSecret) {
        const secret = await readKey(ctx, auth.clientSecret, `${field}.authSecretRef.clientSecret`);
        return new identity.ClientSecretCredential(config.tenantId!, clientId, secret, options);
      }
      const pem = await readKey(ctx, auth.clientCertificate!, `${field}.authSecretRef.clientCertificate`);
      if (!pem.includes('-----BEGIN CERTIFICATE-----') || !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
        throw new ProviderError('BadCredentials', `${field}.authSecretRef.clientCertificate: must hold a PEM certificate and its private key`);
      }
      return new identity.ClientCertificateCredential(config.tenantId!, clientId, { certificate: pem }, options);
    }
    case 'ManagedIdentity': {
      const id = config.identityId;
      // An ARM resource id names a user-assigned identity by resource; anything else is a client id.
      if (id && id.startsWith('/')) return new identity.ManagedIdentityCredential({ resourceId: id, ...options });
      return new identity.ManagedIdentityCredential({ ...(id ? { clientId: id } : {}), ...options });
    }
    case 'WorkloadIdentity':
      return config.serviceAccountRef ? workloadIdentityFromServiceAccount(identity, config, ctx, options) : workloadIdentityFromEnvironment(identity, ctx, options);
  }
}

async function workloadIdentityFromServiceAccount(identity: Identity, config: AzureKVProvider, ctx: ProviderContext, options: ReturnType<typeof credentialOptions>): Promise<TokenCredential> {
  const sa = config.serviceAccountRef!;
  const auth = config.authSecretRef;
  const annotations = ctx.readServiceAccountAnnotations ? await ctx.readServiceAccountAnnotations({ name: sa.name, namespace: sa.namespace }) : {};
  let clientId = '';
  if (auth) {
    if (!auth.clientId) throw new ProviderError('InvalidRequest', `${field}.authSecretRef.clientId: is required when authSecretRef is set with WorkloadIdentity`);
    clientId = (await readKey(ctx, auth.clientId, `${field}.authSecretRef.clientId`)).trim();
  }
  const annotatedClient = annotations[ANNOTATION_CLIENT_ID];
  if (annotatedClient !== undefined) {
    if (clientId !== '') throw new ProviderError('InvalidRequest', `${field}: the client id is set both in authSecretRef.clientId and in the ServiceAccount's ${ANNOTATION_CLIENT_ID} annotation`);
    clientId = annotatedClient;
  }
  if (clientId === '') throw new ProviderError('InvalidRequest', `${field}.serviceAccountRef: the ServiceAccount has no ${ANNOTATION_CLIENT_ID} annotation and authSecretRef.clientId is not set`);
  let tenantId = auth?.tenantId ? (await readKey(ctx, auth.tenantId, `${field}.authSecretRef.tenantId`)).trim() : '';
  if (tenantId === '' && config.tenantId) tenantId = config.tenantId;
  const annotatedTenant = annotations[ANNOTATION_TENANT_ID];
  if (annotatedTenant !== undefined) {
    if (tenantId !== '') throw new ProviderError('InvalidRequest', `${field}: the tenant id is set both in the store (tenantId or authSecretRef.tenantId) and in the ServiceAccount's ${ANNOTATION_TENANT_ID} annotation`);
    tenantId = annotatedTenant;
  }
  if (tenantId === '') tenantId = (ctx.env ?? process.env).AZURE_TENANT_ID ?? '';
  if (tenantId === '') throw new ProviderError('InvalidRequest', `${field}.tenantId: no tenant id (store tenantId, authSecretRef.tenantId, the ${ANNOTATION_TENANT_ID} annotation or AZURE_TENANT_ID)`);
  const audiences = [AZURE_DEFAULT_AUDIENCE, ...(sa.audiences ?? [])];
  // A fresh token for each assertion MSAL needs: MSAL caches the access token it buys with it.
  const assertion = (): Promise<string> => ctx.createServiceAccountToken({ name: sa.name, namespace: sa.namespace, audiences });
  return new identity.ClientAssertionCredential(tenantId, clientId, assertion, options);
}

function workloadIdentityFromEnvironment(identity: Identity, ctx: ProviderContext, options: ReturnType<typeof credentialOptions>): TokenCredential {
  const env = ctx.env ?? process.env;
  const clientId = env.AZURE_CLIENT_ID;
  const tenantId = env.AZURE_TENANT_ID;
  const tokenFile = env.AZURE_FEDERATED_TOKEN_FILE;
  if (!clientId || !tenantId || !tokenFile) {
    throw new ProviderError('BadCredentials', `${field}.serviceAccountRef: not set, and the controller's AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE are not all set`);
  }
  // Read at each assertion: the kubelet rotates the projected token file.
  return new identity.ClientAssertionCredential(tenantId, clientId, async () => (await readFile(tokenFile, 'utf8')).trim(), options);
}
