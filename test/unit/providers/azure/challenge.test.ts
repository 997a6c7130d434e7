// The Key Vault challenge check (the token's resource must be the vault's domain) stays on for
// every host the operator has not listed, so a tenant's vaultUrl cannot collect the operator's token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { challengeCheckWaived } from '../../../../src/providers/azure/index.ts';

test('the check is waived only for hosts listed in TESSERA_AZURE_VAULT_HOSTS, exactly', () => {
  assert.equal(challengeCheckWaived('attacker.example.com', {}), false);
  assert.equal(challengeCheckWaived('127.0.0.1', {}), false);
  const env = { TESSERA_AZURE_VAULT_HOSTS: ' kv.stack.local , 127.0.0.1 ' };
  assert.equal(challengeCheckWaived('kv.stack.local', env), true);
  assert.equal(challengeCheckWaived('KV.Stack.Local', env), true);
  assert.equal(challengeCheckWaived('127.0.0.1', env), true);
  assert.equal(challengeCheckWaived('evil.kv.stack.local', env), false, 'no suffix match');
  assert.equal(challengeCheckWaived('myvault.vault.azure.net', env), false, 'Azure hosts keep the check');
});
