import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateVaultConfig } from '../../../../src/providers/vault/config.ts';

const ok = (auth: unknown) => validateVaultConfig({ server: 'https://vault.example:8200', path: 'secret', auth });

test('each supported auth method validates', () => {
  assert.deepEqual(ok({ tokenSecretRef: { name: 't', key: 'token' } }), []);
  assert.deepEqual(ok({ appRole: { path: 'approle', roleRef: { name: 'r', key: 'id' }, secretRef: { name: 'r', key: 'secret' } } }), []);
  assert.deepEqual(ok({ kubernetes: { mountPath: 'kubernetes', role: 'app', serviceAccountRef: { name: 'sa' } } }), []);
  assert.deepEqual(ok({ kubernetes: { role: 'app', secretRef: { name: 'jwt' } } }), [], 'secretRef key defaults to token');
  assert.deepEqual(ok({ jwt: { role: 'r', kubernetesServiceAccountToken: { serviceAccountRef: { name: 'sa' } } } }), []);
  assert.deepEqual(ok({ jwt: { secretRef: { name: 'j', key: 'jwt' } } }), []);
  assert.deepEqual(ok({ cert: { clientCert: { name: 'c', key: 'tls.crt' }, secretRef: { name: 'c', key: 'tls.key' } } }), []);
  assert.deepEqual(ok({ userPass: { username: 'u', secretRef: { name: 'p', key: 'password' } } }), []);
  assert.deepEqual(ok({ ldap: { username: 'u', secretRef: { name: 'p', key: 'password' } } }), []);
});

test('problems name the field', () => {
  assert.deepEqual(validateVaultConfig({ server: 'https://v' }), ['spec.provider.vault.auth: is required (one of tokenSecretRef, appRole, kubernetes, ldap, jwt, cert, iam, userPass, gcp)']);
  assert.deepEqual(ok({ iam: { vaultRole: 'x' } }), ['spec.provider.vault.auth.iam: is not supported by tessera (see docs/providers/vault.md)']);
  assert.deepEqual(ok({ gcp: { role: 'x' } }), ['spec.provider.vault.auth.gcp: is not supported by tessera (see docs/providers/vault.md)']);
  assert.deepEqual(ok({ tokenSecretRef: { name: 't', key: 'k' }, appRole: { roleId: 'r', secretRef: { name: 's', key: 'k' } } }), [
    'spec.provider.vault.auth: only one method may be set, found tokenSecretRef, appRole',
  ]);
  // Structural problems come from the CRD schema, in the apiserver's words.
  assert.deepEqual(ok({ kubernetes: {} }), ['spec.provider.vault.auth.kubernetes.role: Required value']);
  assert.deepEqual(ok({ jwt: { role: 'r' } }), ['spec.provider.vault.auth.jwt: one of secretRef or kubernetesServiceAccountToken is required']);
  assert.deepEqual(validateVaultConfig({ server: 'https://v', path: '/secret', tls: { certSecretRef: { name: 'c' } }, auth: { tokenSecretRef: { name: 't', key: 'k' } } }), [
    'spec.provider.vault.path: must be a mount path without a leading slash, e.g. "secret"',
    'spec.provider.vault.tls: certSecretRef and keySecretRef must be set together',
  ]);
  assert.deepEqual(validateVaultConfig({ server: 'https://v', caProvider: { type: 'Other', name: 'x' }, auth: { tokenSecretRef: { name: 't', key: 'k' } } }), [
    'spec.provider.vault.caProvider.type: Unsupported value: "Other": supported values: "Secret", "ConfigMap"',
    'spec.provider.vault.caProvider.key: is required',
  ]);
});
