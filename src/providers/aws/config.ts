// spec.provider.aws of an external-secrets.io SecretStore, field for field as ESO's
// apis/externalsecrets/v1/secretstore_aws_types.go. Kept local to the provider: the generated API
// types live in src/api and may replace this shape later without changing a field name.
import type { SecretKeySelector } from '../provider.ts';

export type AWSServiceType = 'SecretsManager' | 'ParameterStore';
export const awsServiceTypes: readonly AWSServiceType[] = ['SecretsManager', 'ParameterStore'];

export interface AWSAuthSecretRef {
  accessKeyIDSecretRef?: SecretKeySelector | undefined;
  secretAccessKeySecretRef?: SecretKeySelector | undefined;
  sessionTokenSecretRef?: SecretKeySelector | undefined;
}

export interface ServiceAccountSelector {
  name: string;
  namespace?: string | undefined;
  audiences?: string[] | undefined;
}

export interface AWSJWTAuth {
  serviceAccountRef?: ServiceAccountSelector | undefined;
}

export interface AWSAuth {
  secretRef?: AWSAuthSecretRef | undefined;
  jwt?: AWSJWTAuth | undefined;
}

export interface AWSTag {
  key: string;
  value: string;
}

export interface AWSSecretsManagerSettings {
  forceDeleteWithoutRecovery?: boolean | undefined;
  recoveryWindowInDays?: number | undefined;
}

export type SessionTagsPolicy = 'None' | 'Simple' | 'Custom';

export interface AWSProvider {
  service: AWSServiceType;
  auth?: AWSAuth | undefined;
  role?: string | undefined;
  region?: string | undefined;
  additionalRoles?: string[] | undefined;
  externalID?: string | undefined;
  sessionTags?: Array<AWSTag | null> | undefined;
  secretsManager?: AWSSecretsManagerSettings | undefined;
  transitiveTagKeys?: string[] | undefined;
  sessionTagsPolicy?: SessionTagsPolicy | undefined;
  customSessionTags?: Record<string, string> | undefined;
  prefix?: string | undefined;
}

const field = 'spec.provider.aws';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkSecretKeySelector(problems: string[], path: string, sel: unknown, required: boolean): void {
  if (sel === undefined || sel === null) {
    if (required) problems.push(`${path}: is required`);
    return;
  }
  if (!isObject(sel)) {
    problems.push(`${path}: must be an object with name and key`);
    return;
  }
  if (typeof sel.name !== 'string' || sel.name === '') problems.push(`${path}.name: is required`);
  if (typeof sel.key !== 'string' || sel.key === '') problems.push(`${path}.key: is required`);
  if (sel.namespace !== undefined && typeof sel.namespace !== 'string') problems.push(`${path}.namespace: must be a string`);
}

function checkRoleArn(problems: string[], path: string, v: unknown): void {
  // STS rejects anything else; saying so here names the field instead of an STS error code.
  if (typeof v !== 'string' || !/^arn:[^:]+:iam::[^:]*:role\/.+/.test(v)) {
    problems.push(`${path}: must be an IAM role ARN (arn:<partition>:iam::<account>:role/<name>)`);
  }
}

/**
 * Static checks of spec.provider.aws. Region may be absent: it is then taken from AWS_REGION /
 * AWS_DEFAULT_REGION when the client is built, as the AWS SDK does.
 */
// eslint-disable-next-line complexity -- field-by-field checks that issue 10 item 8 replaces with the compiled schema (semantic checks only); split what remains then
export function validateAwsConfig(config: unknown): string[] {
  const problems: string[] = [];
  if (!isObject(config)) return [`${field}: must be an object`];
  const c = config;

  if (typeof c.service !== 'string' || !(awsServiceTypes as readonly string[]).includes(c.service)) {
    problems.push(`${field}.service: must be one of ${awsServiceTypes.join(', ')} (got ${JSON.stringify(c.service ?? null)})`);
  }
  if (c.region !== undefined && c.region !== '') {
    if (typeof c.region !== 'string' || !/^[a-z0-9]+(-[a-z0-9]+)+$/.test(c.region)) {
      problems.push(`${field}.region: ${JSON.stringify(c.region)} is not an AWS region name`);
    }
  }
  if (c.prefix !== undefined && typeof c.prefix !== 'string') problems.push(`${field}.prefix: must be a string`);

  if (c.auth !== undefined && c.auth !== null) {
    if (!isObject(c.auth)) {
      problems.push(`${field}.auth: must be an object`);
    } else {
      const { secretRef, jwt } = c.auth;
      if (secretRef !== undefined && secretRef !== null) {
        if (!isObject(secretRef)) {
          problems.push(`${field}.auth.secretRef: must be an object`);
        } else {
          checkSecretKeySelector(problems, `${field}.auth.secretRef.accessKeyIDSecretRef`, secretRef.accessKeyIDSecretRef, true);
          checkSecretKeySelector(problems, `${field}.auth.secretRef.secretAccessKeySecretRef`, secretRef.secretAccessKeySecretRef, true);
          checkSecretKeySelector(problems, `${field}.auth.secretRef.sessionTokenSecretRef`, secretRef.sessionTokenSecretRef, false);
        }
      }
      if (jwt !== undefined && jwt !== null) {
        const sa = isObject(jwt) ? jwt.serviceAccountRef : undefined;
        if (!isObject(sa)) {
          problems.push(`${field}.auth.jwt.serviceAccountRef: is required`);
        } else {
          if (typeof sa.name !== 'string' || sa.name === '') problems.push(`${field}.auth.jwt.serviceAccountRef.name: is required`);
          if (sa.audiences !== undefined && (!Array.isArray(sa.audiences) || sa.audiences.some((a) => typeof a !== 'string' || a === ''))) {
            problems.push(`${field}.auth.jwt.serviceAccountRef.audiences: must be a list of non-empty strings`);
          }
        }
      }
    }
  }

  if (c.role !== undefined && c.role !== '') checkRoleArn(problems, `${field}.role`, c.role);
  if (c.additionalRoles !== undefined && c.additionalRoles !== null) {
    if (!Array.isArray(c.additionalRoles)) problems.push(`${field}.additionalRoles: must be a list of IAM role ARNs`);
    else c.additionalRoles.forEach((r, i) => checkRoleArn(problems, `${field}.additionalRoles[${i}]`, r));
  }
  if (c.externalID !== undefined && typeof c.externalID !== 'string') problems.push(`${field}.externalID: must be a string`);

  if (c.sessionTags !== undefined && c.sessionTags !== null) {
    if (!Array.isArray(c.sessionTags)) {
      problems.push(`${field}.sessionTags: must be a list of {key, value}`);
    } else {
      c.sessionTags.forEach((t, i) => {
        if (t === null) return; // ESO's []*Tag tolerates null entries; they are skipped
        if (!isObject(t) || typeof t.key !== 'string' || t.key === '' || typeof t.value !== 'string') {
          problems.push(`${field}.sessionTags[${i}]: must have a non-empty key and a string value`);
        }
      });
    }
  }
  if (c.transitiveTagKeys !== undefined && c.transitiveTagKeys !== null) {
    if (!Array.isArray(c.transitiveTagKeys) || c.transitiveTagKeys.some((k) => typeof k !== 'string')) {
      problems.push(`${field}.transitiveTagKeys: must be a list of strings`);
    }
  }

  if (c.sessionTagsPolicy !== undefined && c.sessionTagsPolicy !== 'None') {
    if (c.sessionTagsPolicy === 'Simple' || c.sessionTagsPolicy === 'Custom') {
      problems.push(`${field}.sessionTagsPolicy: ${c.sessionTagsPolicy} is not supported yet by tessera (only None)`);
    } else {
      problems.push(`${field}.sessionTagsPolicy: must be one of None, Simple, Custom (got ${JSON.stringify(c.sessionTagsPolicy)})`);
    }
  }

  if (c.secretsManager !== undefined && c.secretsManager !== null) {
    if (!isObject(c.secretsManager)) {
      problems.push(`${field}.secretsManager: must be an object`);
    } else {
      const { forceDeleteWithoutRecovery, recoveryWindowInDays } = c.secretsManager;
      if (recoveryWindowInDays !== undefined && recoveryWindowInDays !== 0) {
        if (typeof recoveryWindowInDays !== 'number' || !Number.isInteger(recoveryWindowInDays) || recoveryWindowInDays < 7 || recoveryWindowInDays > 30) {
          problems.push(`${field}.secretsManager.recoveryWindowInDays: must be between 7 and 30 days`);
        } else if (forceDeleteWithoutRecovery === true) {
          problems.push(`${field}.secretsManager.forceDeleteWithoutRecovery: conflicts with recoveryWindowInDays`);
        }
      }
      if (forceDeleteWithoutRecovery !== undefined && typeof forceDeleteWithoutRecovery !== 'boolean') {
        problems.push(`${field}.secretsManager.forceDeleteWithoutRecovery: must be a boolean`);
      }
    }
  }
  return problems;
}
