// spec.provider.vault: HashiCorp Vault / OpenBao KV v1 and v2 over Vault's HTTP API (node:http,
// no SDK). See docs/providers/vault.md for the supported auth methods.
import { createHash } from 'node:crypto';
import { ProviderError } from '../provider.ts';
import type { Provider, ProviderClient, ProviderContext, SecretKeySelector } from '../provider.ts';
import { IN_CLUSTER_TOKEN_PATH, resolveAuth } from './auth.ts';
import { trimSlashes } from '../common/slashes.ts';
import { readCAProvider } from '../common/ca-provider.ts';
import { validateVaultConfig } from './config.ts';
import type { VaultProvider } from './config.ts';
import { VaultKvClient } from './client.ts';
import { VaultTransport } from './http.ts';
import { sharedLoginCache } from './tokens.ts';
import type { LoginCache } from './tokens.ts';

export type { VaultProvider } from './config.ts';
export { validateVaultConfig } from './config.ts';
export { VaultKvClient } from './client.ts';
export { LoginCache, sharedLoginCache } from './tokens.ts';

const field = 'spec.provider.vault';

function decodeBundle(b64: string, path: string): string {
  const pem = Buffer.from(b64, 'base64').toString('utf8');
  if (!pem.includes('-----BEGIN')) throw new ProviderError('InvalidRequest', `${path}: is not a base64-encoded PEM bundle`);
  return pem;
}

async function readTlsKey(ctx: ProviderContext, ref: SecretKeySelector, defaultKey: string, path: string): Promise<string> {
  const sel = { ...ref, key: ref.key || defaultKey };
  try {
    return await ctx.readSecretKey(sel);
  } catch (err) {
    if (err instanceof ProviderError) throw new ProviderError(err.kind, `${path}: ${err.message}`, { cause: err });
    throw new ProviderError('BadCredentials', `${path}: could not read Secret ${JSON.stringify(ref.name)} key ${JSON.stringify(sel.key)}`, { cause: err });
  }
}

export interface VaultClientExtras {
  /** The login cache to use (tests); the process-wide one by default. */
  logins?: LoginCache;
}

export async function newVaultClient(config: VaultProvider, ctx: ProviderContext, extras: VaultClientExtras = {}): Promise<VaultKvClient> {
  const problems = validateVaultConfig(config);
  if (problems.length > 0) throw new ProviderError('InvalidRequest', problems.join('; '));
  const https = config.server.startsWith('https:');
  let ca: string | undefined;
  if (config.caBundle) ca = decodeBundle(config.caBundle, `${field}.caBundle`);
  else if (config.caProvider) ca = await readCAProvider(config.caProvider, ctx, `${field}.caProvider`);
  let cert: string | undefined;
  let key: string | undefined;
  if (https && config.tls?.certSecretRef && config.tls.keySecretRef) {
    cert = await readTlsKey(ctx, config.tls.certSecretRef, 'tls.crt', `${field}.tls.certSecretRef`);
    key = await readTlsKey(ctx, config.tls.keySecretRef, 'tls.key', `${field}.tls.keySecretRef`);
  }
  const transport = new VaultTransport({
    server: config.server,
    namespace: config.namespace,
    headers: config.headers,
    ca: https ? ca : undefined,
    cert,
    key,
    readYourWrites: config.readYourWrites,
    forwardInconsistent: config.forwardInconsistent,
    deadlineMs: ctx.callDeadlineMs,
    onApiCall: ctx.onApiCall,
    env: ctx.env,
  });
  try {
    const tlsId = createHash('sha256').update(`${ca ?? ''}\u0000${cert ?? ''}`).digest('hex');
    const auth = await resolveAuth(config, ctx, [transport.server, tlsId]);
    const mount = (config.path !== undefined ? trimSlashes(config.path) : '') || undefined;
    return new VaultKvClient({ transport, auth, logins: extras.logins ?? sharedLoginCache, mount, version: config.version ?? 'v2', checkAndSetRequired: config.checkAndSet?.required });
  } catch (err) {
    transport.close();
    throw err;
  }
}

export const vaultProvider: Provider<VaultProvider> = {
  name: 'vault',
  validateConfig: (config) => validateVaultConfig(config),
  // status.capabilities as ESO 2.9 reports it for this provider: KV reads and writes.
  capabilities: () => 'ReadWrite',
  newClient: (config, ctx): Promise<ProviderClient> => newVaultClient(config, ctx),
  controllerIdentity: (config) => vaultControllerIdentity(config),
};

/**
 * Kubernetes auth with neither serviceAccountRef nor secretRef logs in with the controller's own
 * service-account token (as ESO does): the one way a Vault store acts as the controller. The
 * token then goes to the store's server, which the store's author chose.
 */
export function vaultControllerIdentity(config: VaultProvider): { field: string; uses: string } | undefined {
  const k = config?.auth?.kubernetes;
  if (!k || k.serviceAccountRef || k.secretRef) return undefined;
  return { field: `${field}.auth.kubernetes`, uses: `the controller's own service-account token (${IN_CLUSTER_TOKEN_PATH}; neither serviceAccountRef nor secretRef is set)` };
}
