import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ResourceNotFoundException, SecretsManagerServiceException } from '@aws-sdk/client-secrets-manager';
import { ParameterNotFound, ParameterVersionNotFound } from '@aws-sdk/client-ssm';
import { awsErrorCode, batchEntryError, classifyAws, toProviderError } from '../../../../src/providers/aws/errors.ts';
import { NotFoundError, ProviderError, isNotFound } from '../../../../src/providers/provider.ts';

const site = { service: 'SecretsManager', operation: 'GetSecretValue', key: 'prod/db' };

function serviceError(name: string, status = 400, message = `${name} happened`): SecretsManagerServiceException {
  return new SecretsManagerServiceException({ name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status }, message });
}

describe('classifyAws', () => {
  const cases: Array<[string, string]> = [
    ['ResourceNotFoundException', 'NotFound'],
    ['ParameterNotFound', 'NotFound'],
    ['ParameterVersionNotFound', 'NotFound'],
    ['AccessDeniedException', 'AccessDenied'],
    ['AccessDenied', 'AccessDenied'],
    ['DecryptionFailure', 'AccessDenied'],
    ['UnrecognizedClientException', 'BadCredentials'],
    ['InvalidSignatureException', 'BadCredentials'],
    ['ExpiredToken', 'BadCredentials'],
    ['ExpiredTokenException', 'BadCredentials'],
    ['InvalidClientTokenId', 'BadCredentials'],
    ['InvalidIdentityToken', 'BadCredentials'],
    ['CredentialsProviderError', 'BadCredentials'],
    ['ThrottlingException', 'Throttled'],
    ['TooManyRequestsException', 'Throttled'],
    ['ECONNREFUSED', 'Unreachable'],
    ['ETIMEDOUT', 'Unreachable'],
    ['ENOTFOUND', 'Unreachable'],
    ['TimeoutError', 'Unreachable'],
    ['ValidationException', 'InvalidRequest'],
    ['InvalidParameterException', 'InvalidRequest'],
    ['SomethingNew', 'Unknown'],
  ];
  for (const [code, kind] of cases) {
    test(`${code} → ${kind}`, () => assert.equal(classifyAws(code), kind));
  }
  test('HTTP status when the code is unknown', () => {
    assert.equal(classifyAws(undefined, 429), 'Throttled');
    assert.equal(classifyAws('Weird', 429), 'Throttled');
    assert.equal(classifyAws(undefined, 403), 'AccessDenied');
    assert.equal(classifyAws(undefined, 503), 'Unreachable');
    assert.equal(classifyAws(undefined, 500), 'Unknown');
  });
  test('a secret marked for deletion reads as not found (as ESO)', () => {
    assert.equal(classifyAws('InvalidRequestException', 400, "You can't perform this operation on the secret because it was marked for deletion."), 'NotFound');
    assert.equal(classifyAws('InvalidRequestException', 400, 'something else'), 'InvalidRequest');
  });
});

describe('awsErrorCode', () => {
  test('reads SDK names, Node codes, causes and AggregateError members', () => {
    assert.equal(awsErrorCode(serviceError('ThrottlingException')), 'ThrottlingException');
    assert.equal(awsErrorCode(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })), 'ECONNREFUSED');
    assert.equal(awsErrorCode(new Error('wrapped', { cause: Object.assign(new Error('x'), { code: 'ETIMEDOUT' }) })), 'ETIMEDOUT');
    assert.equal(awsErrorCode(new AggregateError([Object.assign(new Error('a'), { code: 'EHOSTUNREACH' })], 'all failed')), 'EHOSTUNREACH');
    assert.equal(awsErrorCode(new Error('plain')), undefined);
    assert.equal(awsErrorCode('string'), undefined);
  });
});

describe('toProviderError', () => {
  test('ResourceNotFoundException becomes a NotFoundError naming operation, key and code', () => {
    const err = toProviderError(new ResourceNotFoundException({ $metadata: { httpStatusCode: 400 }, message: "Secrets Manager can't find the specified secret." }), site);
    assert.ok(err instanceof NotFoundError);
    assert.ok(isNotFound(err));
    assert.equal(err.retryable, false);
    assert.equal(err.message, 'AWS SecretsManager GetSecretValue "prod/db": not found (ResourceNotFoundException)');
  });
  test('Parameter Store not-found errors', () => {
    const ps = { service: 'ParameterStore', operation: 'GetParameter', key: '/a:3' };
    assert.ok(isNotFound(toProviderError(new ParameterNotFound({ $metadata: {}, message: '' }), ps)));
    assert.ok(isNotFound(toProviderError(new ParameterVersionNotFound({ $metadata: {}, message: '' }), ps)));
  });
  test('AccessDenied keeps the AWS explanation (it names the principal, not the value)', () => {
    const err = toProviderError(serviceError('AccessDeniedException', 400, 'User: arn:aws:iam::1:user/x is not authorized to perform: secretsmanager:GetSecretValue'), site);
    assert.equal(err.kind, 'AccessDenied');
    assert.equal(err.retryable, false);
    assert.match(err.message, /^AWS SecretsManager GetSecretValue "prod\/db": access denied \(AccessDeniedException: User: arn:aws:iam::1:user\/x is not authorized/);
  });
  test('throttling and 429 are retryable Throttled', () => {
    const t = toProviderError(serviceError('ThrottlingException'), site);
    assert.equal(t.kind, 'Throttled');
    assert.equal(t.retryable, true);
    const e = toProviderError(Object.assign(new Error('Too Many'), { $metadata: { httpStatusCode: 429 } }), site);
    assert.equal(e.kind, 'Throttled');
  });
  test('network errors are retryable Unreachable', () => {
    const err = toProviderError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4566'), { code: 'ECONNREFUSED' }), site);
    assert.equal(err.kind, 'Unreachable');
    assert.equal(err.retryable, true);
    assert.match(err.message, /endpoint unreachable \(ECONNREFUSED: connect ECONNREFUSED 127\.0\.0\.1:4566\)/);
  });
  test('bad credentials', () => {
    assert.equal(toProviderError(serviceError('UnrecognizedClientException'), site).kind, 'BadCredentials');
    assert.equal(toProviderError(serviceError('InvalidSignatureException'), site).kind, 'BadCredentials');
  });
  test('a ProviderError passes through unchanged', () => {
    const original = new ProviderError('BadCredentials', 'secret aws-creds has no key id');
    assert.equal(toProviderError(original, site), original);
  });
  test('non-service errors do not leak their text (it may quote a response body)', () => {
    const err = toProviderError(new SyntaxError('Unexpected token in JSON: {"SecretString":"hunter2"}'), site);
    assert.equal(err.kind, 'Unknown');
    assert.doesNotMatch(err.message, /hunter2/);
    assert.equal(err.cause, undefined);
    assert.equal(err.message, 'AWS SecretsManager GetSecretValue "prod/db": failed (SyntaxError)');
  });
  test('long AWS messages are cut short and kept on one line', () => {
    const err = toProviderError(serviceError('ValidationException', 400, `line1\n${'x'.repeat(500)}`), site);
    assert.ok(err.message.length < 400);
    assert.doesNotMatch(err.message, /\n/);
  });
});

describe('batchEntryError', () => {
  test('maps per-id batch errors with the same catalog', () => {
    const nf = batchEntryError({ service: 'SecretsManager', operation: 'BatchGetSecretValue', key: 'a' }, 'ResourceNotFoundException', "can't find");
    assert.ok(nf instanceof NotFoundError);
    const denied = batchEntryError({ service: 'SecretsManager', operation: 'BatchGetSecretValue', key: 'b' }, 'AccessDeniedException', 'not authorized');
    assert.equal(denied.kind, 'AccessDenied');
    assert.match(denied.message, /BatchGetSecretValue "b": access denied \(AccessDeniedException: not authorized\)/);
    assert.equal(batchEntryError({ service: 'SecretsManager', operation: 'BatchGetSecretValue', key: 'c' }, 'DecryptionFailure', 'kms').kind, 'AccessDenied');
  });
});
