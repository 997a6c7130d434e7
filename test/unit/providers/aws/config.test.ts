import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { awsProvider } from '../../../../src/providers/aws/index.ts';
import type { AWSProvider } from '../../../../src/providers/aws/index.ts';

const validate = (c: unknown) => awsProvider.validateConfig(c as AWSProvider);

describe('validateConfig', () => {
  test('a minimal store is valid; region may come from the environment', () => {
    assert.deepEqual(validate({ service: 'SecretsManager', region: 'eu-central-1' }), []);
    assert.deepEqual(validate({ service: 'ParameterStore' }), []);
  });

  test('a complete ESO manifest is valid', () => {
    assert.deepEqual(
      validate({
        service: 'SecretsManager',
        region: 'us-gov-west-1',
        role: 'arn:aws:iam::123456789012:role/reader',
        additionalRoles: ['arn:aws-us-gov:iam::123456789012:role/hop'],
        externalID: 'ext',
        sessionTags: [{ key: 'team', value: 'a' }, null],
        transitiveTagKeys: ['team'],
        prefix: 'prod/',
        sessionTagsPolicy: 'None',
        auth: {
          secretRef: {
            accessKeyIDSecretRef: { name: 'aws', key: 'id' },
            secretAccessKeySecretRef: { name: 'aws', key: 'secret', namespace: 'ops' },
            sessionTokenSecretRef: { name: 'aws', key: 'token' },
          },
        },
        secretsManager: { recoveryWindowInDays: 7 },
      }),
      [],
    );
  });

  // Structural problems come from the CRD schema, in the apiserver's words.
  test('service must be SecretsManager or ParameterStore', () => {
    assert.deepEqual(validate({ service: 'KMS' }), ['spec.provider.aws.service: Unsupported value: "KMS": supported values: "SecretsManager", "ParameterStore", "CertificateManager"']);
    assert.deepEqual(validate({}), ['spec.provider.aws.service: Required value']);
  });

  // ESO 2.9's enum has it, so the apiserver admits it; the store's status says this build cannot.
  test('service CertificateManager is admitted by the schema and reported as unsupported by this build', () => {
    assert.deepEqual(validate({ service: 'CertificateManager', region: 'eu-central-1' }), [
      'spec.provider.aws.service: "CertificateManager" is not supported by this build of Tessera (supported: SecretsManager, ParameterStore)',
    ]);
  });

  test('not an object', () => {
    assert.deepEqual(validate(null), ['spec.provider.aws: Invalid value: null: must be of type object']);
  });

  test('region may be absent (environment fallback), null session tags are skipped', () => {
    assert.deepEqual(validate({ service: 'SecretsManager', sessionTags: [null, { key: 'team', value: 'a' }] }), []);
  });

  test('region must look like a region', () => {
    assert.deepEqual(validate({ service: 'SecretsManager', region: 'Frankfurt' }), ['spec.provider.aws.region: "Frankfurt" is not an AWS region name']);
  });

  test('secretRef needs both keys, each with name and key', () => {
    assert.deepEqual(validate({ service: 'SecretsManager', auth: { secretRef: { accessKeyIDSecretRef: { name: 'aws' } } } }), [
      'spec.provider.aws.auth.secretRef.accessKeyIDSecretRef.key: is required',
      'spec.provider.aws.auth.secretRef.secretAccessKeySecretRef: is required',
    ]);
  });

  test('jwt needs serviceAccountRef.name', () => {
    assert.deepEqual(validate({ service: 'SecretsManager', auth: { jwt: {} } }), ['spec.provider.aws.auth.jwt.serviceAccountRef: is required']);
    assert.deepEqual(validate({ service: 'SecretsManager', auth: { jwt: { serviceAccountRef: {} } } }), ['spec.provider.aws.auth.jwt.serviceAccountRef.name: Required value']);
    assert.deepEqual(validate({ service: 'SecretsManager', auth: { jwt: { serviceAccountRef: { name: 'sa', audiences: [''] } } } }), [
      'spec.provider.aws.auth.jwt.serviceAccountRef.audiences: must be a list of non-empty strings',
    ]);
  });

  test('roles must be IAM role ARNs', () => {
    assert.deepEqual(validate({ service: 'SecretsManager', role: 'reader', additionalRoles: ['arn:aws:iam::1:user/x'] }), [
      'spec.provider.aws.role: must be an IAM role ARN (arn:<partition>:iam::<account>:role/<name>)',
      'spec.provider.aws.additionalRoles[0]: must be an IAM role ARN (arn:<partition>:iam::<account>:role/<name>)',
    ]);
  });

  test('session tags need a key and a value', () => {
    assert.deepEqual(validate({ service: 'SecretsManager', sessionTags: [{ key: '', value: 'x' }] }), [
      'spec.provider.aws.sessionTags[0]: must have a non-empty key and a string value',
    ]);
  });

  test('sessionTagsPolicy Simple/Custom is reported as not supported', () => {
    assert.deepEqual(validate({ service: 'SecretsManager', sessionTagsPolicy: 'Simple' }), [
      'spec.provider.aws.sessionTagsPolicy: Simple is not supported yet by tessera (only None)',
    ]);
  });

  test('secretsManager delete settings as ESO validates them', () => {
    assert.deepEqual(validate({ service: 'SecretsManager', secretsManager: { recoveryWindowInDays: 3 } }), [
      'spec.provider.aws.secretsManager.recoveryWindowInDays: must be between 7 and 30 days',
    ]);
    assert.deepEqual(validate({ service: 'SecretsManager', secretsManager: { recoveryWindowInDays: 10, forceDeleteWithoutRecovery: true } }), [
      'spec.provider.aws.secretsManager.forceDeleteWithoutRecovery: conflicts with recoveryWindowInDays',
    ]);
    assert.deepEqual(validate({ service: 'SecretsManager', secretsManager: { forceDeleteWithoutRecovery: true } }), []);
  });

  test('provider identity and capabilities', () => {
    assert.equal(awsProvider.name, 'aws');
    assert.equal(awsProvider.capabilities({ service: 'SecretsManager' }), 'ReadWrite');
  });
});
