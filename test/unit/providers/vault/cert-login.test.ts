// Vault cert auth: the login request Tessera sends, checked on the request itself (the body is what
// Vault's cert backend reads; the TLS client certificate travels beside it). `vaultRole` is sent as
// ESO sends it, `{"name": <role>}`, and takes part in the login cache key, so two stores that differ
// only by role do not share a token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveAuth, type LoginAuth } from '../../../../src/providers/vault/auth.ts';
import type { VaultProvider } from '../../../../src/providers/vault/config.ts';
import type { ProviderContext } from '../../../../src/providers/provider.ts';

const ctx = { readSecretKey: async (ref: { name: string }) => `pem-of-${ref.name}` } as unknown as ProviderContext;

function certStore(vaultRole?: string): VaultProvider {
  return {
    server: 'https://vault.example:8200',
    path: 'secret',
    version: 'v2',
    auth: { cert: { clientCert: { name: 'client-cert', key: 'tls.crt' }, secretRef: { name: 'client-key', key: 'tls.key' }, ...(vaultRole ? { vaultRole } : {}) } },
  } as unknown as VaultProvider;
}

async function loginRequest(vaultRole?: string): Promise<{ path: string; body: unknown; cacheKey: string }> {
  const plan = (await resolveAuth(certStore(vaultRole), ctx, ['server'])) as LoginAuth;
  assert.equal(plan.kind, 'login');
  let sent: { path: string; body: unknown } | undefined;
  const transport = {
    send: async (_site: unknown, _method: string, path: string, opts: { body: unknown }) => {
      sent = { path, body: opts.body };
      return { status: 200, body: { auth: { client_token: 't', lease_duration: 60, renewable: false } }, errors: [] };
    },
  };
  await plan.login(transport as never);
  return { ...sent!, cacheKey: plan.cacheKey };
}

test('cert login sends vaultRole as "name", and none without it', async () => {
  const withRole = await loginRequest('web-servers');
  assert.equal(withRole.path, 'auth/cert/login');
  assert.deepEqual(withRole.body, { name: 'web-servers' });
  const without = await loginRequest();
  assert.deepEqual(without.body, {});
  assert.notEqual(withRole.cacheKey, without.cacheKey, 'a different role is a different login');
});
