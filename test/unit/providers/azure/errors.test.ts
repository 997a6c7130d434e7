import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RestError } from '@azure/core-rest-pipeline';
import { classifyKeyVault, toProviderError } from '../../../../src/providers/azure/errors.ts';
import { CallLimitError } from '../../../../src/providers/common/http.ts';
import { isNotFound } from '../../../../src/providers/provider.ts';

const site = { operation: 'GetSecret', key: 'secret/db', vaultUrl: 'https://v.vault.azure.net' };

test('a 404 is a not-found only when Key Vault names the missing object', () => {
  assert.equal(classifyKeyVault(404, 'SecretNotFound'), 'NotFound');
  assert.equal(classifyKeyVault(404, 'KeyNotFound'), 'NotFound');
  assert.equal(classifyKeyVault(404, 'CertificateNotFound'), 'NotFound');
  // A proxy's or a wrong path's 404 must not delete anyone's Secret.
  assert.equal(classifyKeyVault(404, undefined), 'InvalidRequest');
  assert.equal(classifyKeyVault(404, 'NotFound'), 'InvalidRequest');
  assert.equal(classifyKeyVault(401, 'Unauthorized'), 'BadCredentials');
  assert.equal(classifyKeyVault(403, 'Forbidden'), 'AccessDenied');
  assert.equal(classifyKeyVault(429, 'Throttled'), 'Throttled');
  assert.equal(classifyKeyVault(503, undefined), 'Unreachable');
  assert.equal(classifyKeyVault(500, undefined), 'Unknown');
});

test('Key Vault errors name operation, object and code; not-found drops the service text', () => {
  const nf = toProviderError(new RestError('A secret with (name/id) db was not found in this key vault.', { code: 'SecretNotFound', statusCode: 404 }), site);
  assert.ok(isNotFound(nf));
  assert.equal(nf.message, 'Azure KeyVault GetSecret "secret/db": not found (SecretNotFound 404)');
  const denied = toProviderError(new RestError('The user does not have secrets get permission.', { code: 'Forbidden', statusCode: 403 }), site);
  assert.equal(denied.kind, 'AccessDenied');
  assert.equal(denied.message, 'Azure KeyVault GetSecret "secret/db": access denied (Forbidden 403: The user does not have secrets get permission.)');
});

test('Entra ID refusals are BadCredentials with the AADSTS code; unreachable authorities are Unreachable', () => {
  const msal = Object.assign(new Error("invalid_client: Error(s): 7000215 - Description: AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x"), { errorCode: 'invalid_client' });
  const refused = toProviderError(Object.assign(new Error('wrapped'), { name: 'AuthenticationRequiredError', cause: msal }), site);
  assert.equal(refused.kind, 'BadCredentials');
  assert.equal(refused.message, 'Azure KeyVault GetSecret "secret/db": Entra ID token request credentials rejected (invalid_client: AADSTS7000215: Invalid client secret provided.)');
  const unavailable = toProviderError(Object.assign(new Error('ClientSecretCredential: endpoints_resolution_error: See https://aka.ms for details'), { name: 'CredentialUnavailableError' }), site);
  assert.equal(unavailable.kind, 'Unreachable');
  const noCred = toProviderError(Object.assign(new Error('ManagedIdentityCredential: no endpoint'), { name: 'CredentialUnavailableError' }), site);
  assert.equal(noCred.kind, 'BadCredentials');
});

test('network failures and passed deadlines are Unreachable; other errors keep their text out', () => {
  const refused = toProviderError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), site);
  assert.equal(refused.kind, 'Unreachable');
  assert.match(refused.message, /server https:\/\/v\.vault\.azure\.net unreachable \(ECONNREFUSED\)/);
  const deadline = toProviderError(new CallLimitError('DEADLINE_EXCEEDED', 30_000), site);
  assert.equal(deadline.kind, 'Unreachable');
  assert.match(deadline.message, /deadline of 30s exceeded/);
  const cap = toProviderError(Object.assign(new Error('outer'), { cause: new CallLimitError('RESPONSE_TOO_LARGE', 16 * 1024 * 1024) }), site);
  assert.equal(cap.kind, 'Unknown');
  assert.match(cap.message, /response size cap of 16 MiB/);
  const parse = toProviderError(new SyntaxError('Unexpected token s in JSON at position 0: s3cret'), site);
  assert.equal(parse.message, 'Azure KeyVault GetSecret "secret/db": failed (SyntaxError)');
});
