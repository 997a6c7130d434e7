// spec.provider.aws of an external-secrets.io SecretStore: the types are the generated API types
// (src/api), the checks here are the semantic ones the schema cannot express.

import type * as api from '../../api/types.generated.ts';
import { schemaProblems, type Validated } from '../common/config.ts';

export type AWSServiceType = api.AWSProvider['service'];
/** The services this build has a client for; the schema's enum may name more (CertificateManager). */
export const awsServiceTypes: readonly AWSServiceType[] = ['SecretsManager', 'ParameterStore'];
export type SessionTagsPolicy = NonNullable<api.AWSProvider['sessionTagsPolicy']>;
export type AWSAuth = Validated<api.AWSAuth>;
export type AWSTag = api.AWSTag;
export type ServiceAccountSelector = api.ServiceAccountSelector;

/**
 * spec.provider.aws as the provider reads it: the generated type, except that `region` may be
 * absent (the SDK's AWS_REGION / AWS_DEFAULT_REGION then apply, for configs that did not pass the
 * apiserver, e.g. `tessera render`) and ESO's `[]*Tag` may hold null entries (skipped).
 */
export type AWSProvider = Omit<Validated<api.AWSProvider>, 'region' | 'sessionTags'> & {
  region?: string | undefined;
  sessionTags?: Array<AWSTag | null> | undefined;
};

const field = 'spec.provider.aws';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A selector the provider reads must name its Secret and key (ESO's schema leaves both optional). */
function checkSecretKeySelector(problems: string[], path: string, sel: unknown, required: boolean): void {
  if (sel === undefined || sel === null) {
    if (required) problems.push(`${path}: is required`);
    return;
  }
  if (!isObject(sel)) return; // the schema reports the type
  if (sel.name === undefined || sel.name === '') problems.push(`${path}.name: is required`);
  if (sel.key === undefined || sel.key === '') problems.push(`${path}.key: is required`);
}

function checkRoleArn(problems: string[], path: string, v: unknown): void {
  // STS rejects anything else; saying so here names the field instead of an STS error code.
  if (typeof v !== 'string' || !/^arn:[^:]+:iam::[^:]*:role\/.+/.test(v)) {
    problems.push(`${path}: must be an IAM role ARN (arn:<partition>:iam::<account>:role/<name>)`);
  }
}

/**
 * Checks of spec.provider.aws: the schema's (types, enums, required fields), then the semantic
 * ones. Two deliberate tolerances, documented in docs/providers/aws.md: `region` may be absent
 * (taken from AWS_REGION / AWS_DEFAULT_REGION when the client is built, as the AWS SDK does), and
 * null entries of sessionTags are skipped (ESO's `[]*Tag`).
 */
// eslint-disable-next-line complexity -- field-by-field checks that issue 10 item 8 replaces with the compiled schema (semantic checks only); split what remains then
export function validateAwsConfig(config: unknown): string[] {
  const sessionTags = isObject(config) && Array.isArray(config.sessionTags) ? config.sessionTags : [];
  const problems = schemaProblems('aws', config, (i) =>
    (i.path === `${field}.region` && i.message === 'Required value') || sessionTags.some((t, j) => t === null && i.path.startsWith(`${field}.sessionTags[${j}]`)));
  if (!isObject(config)) return problems;
  const c = config;

  // ESO 2.9's schema admits CertificateManager (so its manifests apply); this build has no client
  // for it, and says so on the store's status rather than reading from another service.
  if (typeof c.service === 'string' && c.service !== '' && !(awsServiceTypes as readonly string[]).includes(c.service) && !problems.some((p) => p.startsWith(`${field}.service`))) {
    problems.push(`${field}.service: ${JSON.stringify(c.service)} is not supported by this build of Tessera (supported: ${awsServiceTypes.join(', ')})`);
  }

  if (typeof c.region === 'string' && c.region !== '' && !/^[a-z0-9]+(-[a-z0-9]+)+$/.test(c.region)) {
    problems.push(`${field}.region: ${JSON.stringify(c.region)} is not an AWS region name`);
  }
  const auth = isObject(c.auth) ? c.auth : {};
  if (isObject(auth.secretRef)) {
    checkSecretKeySelector(problems, `${field}.auth.secretRef.accessKeyIDSecretRef`, auth.secretRef.accessKeyIDSecretRef, true);
    checkSecretKeySelector(problems, `${field}.auth.secretRef.secretAccessKeySecretRef`, auth.secretRef.secretAccessKeySecretRef, true);
    checkSecretKeySelector(problems, `${field}.auth.secretRef.sessionTokenSecretRef`, auth.secretRef.sessionTokenSecretRef, false);
  }
  if (isObject(auth.jwt)) {
    const sa = auth.jwt.serviceAccountRef;
    if (sa === undefined || sa === null) problems.push(`${field}.auth.jwt.serviceAccountRef: is required`);
    else if (isObject(sa) && Array.isArray(sa.audiences) && sa.audiences.some((a) => a === '')) {
      problems.push(`${field}.auth.jwt.serviceAccountRef.audiences: must be a list of non-empty strings`);
    }
  }

  if (c.role !== undefined && c.role !== '') checkRoleArn(problems, `${field}.role`, c.role);
  if (Array.isArray(c.additionalRoles)) c.additionalRoles.forEach((r, i) => checkRoleArn(problems, `${field}.additionalRoles[${i}]`, r));
  sessionTags.forEach((t, i) => {
    if (isObject(t) && t.key === '') problems.push(`${field}.sessionTags[${i}]: must have a non-empty key and a string value`);
  });

  if (c.sessionTagsPolicy === 'Simple' || c.sessionTagsPolicy === 'Custom') {
    problems.push(`${field}.sessionTagsPolicy: ${c.sessionTagsPolicy} is not supported yet by tessera (only None)`);
  }

  if (isObject(c.secretsManager)) {
    const { forceDeleteWithoutRecovery, recoveryWindowInDays } = c.secretsManager;
    if (typeof recoveryWindowInDays === 'number' && recoveryWindowInDays !== 0) {
      if (!Number.isInteger(recoveryWindowInDays) || recoveryWindowInDays < 7 || recoveryWindowInDays > 30) {
        problems.push(`${field}.secretsManager.recoveryWindowInDays: must be between 7 and 30 days`);
      } else if (forceDeleteWithoutRecovery === true) {
        problems.push(`${field}.secretsManager.forceDeleteWithoutRecovery: conflicts with recoveryWindowInDays`);
      }
    }
  }
  return problems;
}
