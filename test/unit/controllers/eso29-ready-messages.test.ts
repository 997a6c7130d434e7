// ESO 2.9's fixed Ready=False messages: Tessera's Ready=False message starts with the one of the
// failing step (pkg/controllers/externalsecret's msgError* constants), then gives the cause.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readyFailureMessage } from '../../../src/controllers/externalsecret-reconciler.ts';

describe("Ready=False messages start with ESO's fixed summary of the failing step", () => {
  test('the summary, then the cause; a cause that already starts with it is not repeated', () => {
    assert.equal(readyFailureMessage('StoreNotFound', 'SecretStore "s" not found'), 'could not get secret data from provider: SecretStore "s" not found');
    assert.equal(readyFailureMessage('ProviderError', 'could not get secret data from provider (store x): boom'), 'could not get secret data from provider (store x): boom');
    assert.equal(readyFailureMessage('SecretOwnedByOther', 'secret "a" is owned by ExternalSecret "b"'), 'target is owned by another ExternalSecret: secret "a" is owned by ExternalSecret "b"');
    assert.equal(readyFailureMessage('ImmutableSecretChanged', 'c'), 'could not update secret, target is immutable: c');
    assert.equal(readyFailureMessage('DeleteNotOwned', 'c'), 'could not delete secret: c');
    assert.equal(readyFailureMessage('GenericTargetsDisabled', 'c'), 'invalid generic target: c');
    assert.equal(readyFailureMessage('SecretWriteFailed', 'could not write secret "a": x'), 'could not update secret: could not write secret "a": x');
    assert.equal(readyFailureMessage('Error', 'c'), 'could not update secret: c');
  });
});
