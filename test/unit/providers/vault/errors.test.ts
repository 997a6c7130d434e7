import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyVault, vaultHttpError, vaultNetworkError } from '../../../../src/providers/vault/errors.ts';
import { isNotFound } from '../../../../src/providers/provider.ts';

test('status classification', () => {
  assert.equal(classifyVault(404, []), 'NotFound');
  assert.equal(classifyVault(403, ['1 error occurred:\n\t* permission denied\n\n']), 'AccessDenied');
  assert.equal(classifyVault(403, ['invalid token']), 'BadCredentials');
  assert.equal(classifyVault(503, ['Vault is sealed']), 'Unreachable');
  assert.equal(classifyVault(400, ['Vault is sealed']), 'Unreachable');
  assert.equal(classifyVault(429, []), 'Throttled');
  assert.equal(classifyVault(400, ['invalid role or secret ID'], true), 'BadCredentials');
  assert.equal(classifyVault(400, ['bad']), 'InvalidRequest');
  assert.equal(classifyVault(500, []), 'Unknown');
});

test('messages name operation, path and status; sealed and missing mounts say so', () => {
  const nf = vaultHttpError({ operation: 'ReadSecretData', path: 'secret/data/x' }, 404, []);
  assert.ok(isNotFound(nf));
  assert.equal(nf.message, 'Vault ReadSecretData "secret/data/x": not found (HTTP 404)');
  const route = vaultHttpError({ operation: 'ReadSecretData', path: 'nope/data/x' }, 404, ['no handler for route "nope/data/x". route entry not found.']);
  assert.match(route.message, /no secrets engine or auth method mounted/);
  const sealed = vaultHttpError({ operation: 'LookupSelf' }, 503, ['Vault is sealed']);
  assert.equal(sealed.kind, 'Unreachable');
  assert.equal(sealed.message, 'Vault LookupSelf: server is sealed (HTTP 503: Vault is sealed)');
  const denied = vaultHttpError({ operation: 'ReadSecretData', path: 'p' }, 403, ['1 error occurred:\n\t* permission denied\n\n']);
  assert.equal(denied.message, 'Vault ReadSecretData "p": permission denied (HTTP 403: permission denied)');
});

test('network errors are Unreachable and retryable', () => {
  const e = vaultNetworkError({ operation: 'Login' }, 'http://127.0.0.1:1', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
  assert.equal(e.kind, 'Unreachable');
  assert.equal(e.retryable, true);
  assert.match(e.message, /ECONNREFUSED/);
  const tls = vaultNetworkError({ operation: 'Login' }, 'https://v', Object.assign(new Error('self-signed certificate'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }));
  assert.match(tls.message, /TLS handshake with https:\/\/v failed/);
});
