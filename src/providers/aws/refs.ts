// Pure helpers that turn manifest fields into AWS request fields, as ESO does.
import { goJsonMarshal } from '../../go/json.ts';

// Shared with the other providers that read key by key.
export { mapLimit } from '../common/map-limit.ts';

/** Secrets Manager: "uuid/<VersionId>" selects a version id; anything else is a staging label. */
export function secretsManagerVersion(version: string | undefined): { VersionId: string } | { VersionStage: string } {
  if (version === undefined || version === '') return { VersionStage: 'AWSCURRENT' };
  if (version.startsWith('uuid/')) return { VersionId: version.slice('uuid/'.length) };
  return { VersionStage: version };
}

/** Parameter Store: a version (number) or label is appended as `name:selector`. */
export function parameterSelector(name: string, version: string | undefined): string {
  return version === undefined || version === '' ? name : `${name}:${version}`;
}

/**
 * Tags as the JSON object ESO returns for metadataPolicy: Fetch. Go's encoding/json sorts map
 * keys and escapes <, >, & and U+2028/U+2029; doing the same keeps the bytes (and so the Secret's
 * hash) identical to what ESO writes.
 */
export function tagsToJson(tags: ReadonlyArray<{ Key?: string | undefined; Value?: string | undefined }> | Record<string, string> | undefined): string {
  const map = new Map<string, string>();
  if (Array.isArray(tags)) {
    for (const t of tags) if (t.Key !== undefined) map.set(t.Key, t.Value ?? '');
  } else if (tags) {
    for (const [k, v] of Object.entries(tags)) map.set(k, v);
  }
  return goJsonMarshal(map, { escapeHTML: true });
}

/** The standard AWS endpoint variables, most specific first, as the AWS SDKs read them. */
const endpointVars: Record<AwsServiceId, string[]> = {
  secretsmanager: ['AWS_ENDPOINT_URL_SECRETS_MANAGER', 'AWS_SECRETSMANAGER_ENDPOINT'],
  ssm: ['AWS_ENDPOINT_URL_SSM', 'AWS_SSM_ENDPOINT'],
  sts: ['AWS_ENDPOINT_URL_STS', 'AWS_STS_ENDPOINT'],
  ecr: ['AWS_ENDPOINT_URL_ECR', 'AWS_ECR_ENDPOINT'],
};

export type AwsServiceId = 'secretsmanager' | 'ssm' | 'sts' | 'ecr';

/**
 * The endpoint override for one service from an environment: the service-specific variable, then
 * ESO's legacy AWS_<SERVICE>_ENDPOINT, then AWS_ENDPOINT_URL; none when
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true.
 */
export function endpointFromEnv(env: Record<string, string | undefined>, service: AwsServiceId): string | undefined {
  if ((env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS ?? '').toLowerCase() === 'true') return undefined;
  for (const name of [...endpointVars[service], 'AWS_ENDPOINT_URL']) {
    const v = env[name];
    if (v !== undefined && v.trim() !== '') return v.trim();
  }
  return undefined;
}

/** Region from the store, else from the environment as the SDK reads it. */
export function regionFrom(configured: string | undefined, env: Record<string, string | undefined>): string | undefined {
  for (const v of [configured, env.AWS_REGION, env.AWS_DEFAULT_REGION]) {
    if (v !== undefined && v.trim() !== '') return v.trim();
  }
  return undefined;
}

/** Splits a list into chunks of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
