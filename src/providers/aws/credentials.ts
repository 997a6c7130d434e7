// Builds the credential provider for a store, in ESO's order:
//   1. base credentials: auth.jwt (AssumeRoleWithWebIdentity with a service-account token), else
//      auth.secretRef (static keys), else the environment / the SDK's default chain;
//   2. each of additionalRoles assumed in turn;
//   3. role assumed last, with externalID, sessionTags and transitiveTagKeys.
// STS is called through our own client (not the SDK's credential-providers) so that endpoint
// overrides, timeouts and the API-call counter apply to it like to every other call.
import { readFile } from 'node:fs/promises';
import { ProviderError } from '../provider.ts';
import type { ProviderContext } from '../provider.ts';
import type { AWSProvider } from './config.ts';
import { toProviderError } from './errors.ts';
import { clientConfig, countApiCalls, withDeadline } from './sdk.ts';
import type { AwsCredentials, CredentialProvider, SdkSettings } from './sdk.ts';

type StsModule = typeof import('@aws-sdk/client-sts');
type StsClient = InstanceType<StsModule['STSClient']>;

export const ROLE_ARN_ANNOTATION = 'eks.amazonaws.com/role-arn';
export const AUDIENCE_ANNOTATION = 'eks.amazonaws.com/audience';
export const DEFAULT_TOKEN_AUDIENCE = 'sts.amazonaws.com';
export const WEB_IDENTITY_SESSION_NAME = 'tessera-provider-aws';

/** Refresh temporary credentials this long before they expire. */
const REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * Caches a provider's credentials until shortly before they expire; concurrent callers share one
 * in-flight fetch. Failures are not cached.
 */
export function memoize(provider: CredentialProvider, now: () => number = Date.now): CredentialProvider {
  let current: AwsCredentials | undefined;
  let inflight: Promise<AwsCredentials> | undefined;
  return async () => {
    if (current && (current.expiration === undefined || current.expiration.getTime() - REFRESH_MARGIN_MS > now())) return current;
    inflight ??= provider().then(
      (c) => {
        current = c;
        inflight = undefined;
        return c;
      },
      (err: unknown) => {
        inflight = undefined;
        throw err;
      },
    );
    return inflight;
  };
}

export interface StsFactory {
  /** An STS client signing with `credentials` (undefined: unsigned/default chain). */
  client(credentials: CredentialProvider | undefined): Promise<StsClient>;
  module(): Promise<StsModule>;
  close(): void;
}

/** Lazily loads @aws-sdk/client-sts and remembers the clients it made, to destroy them on close. */
export function stsFactory(settings: SdkSettings): StsFactory {
  let mod: Promise<StsModule> | undefined;
  const clients: StsClient[] = [];
  const load = () => (mod ??= import('@aws-sdk/client-sts'));
  return {
    module: load,
    async client(credentials) {
      const { STSClient } = await load();
      const client = new STSClient(clientConfig(settings, 'sts', credentials));
      countApiCalls(client, 'sts', settings.onApiCall);
      withDeadline(client, settings.deadlineMs);
      clients.push(client);
      return client;
    },
    close() {
      for (const c of clients.splice(0)) c.destroy();
    },
  };
}

function fromStsCredentials(
  c: { AccessKeyId?: string | undefined; SecretAccessKey?: string | undefined; SessionToken?: string | undefined; Expiration?: Date | undefined } | undefined,
  operation: string,
): AwsCredentials {
  if (!c?.AccessKeyId || !c.SecretAccessKey) {
    throw new ProviderError('BadCredentials', `AWS STS ${operation}: response carried no credentials`);
  }
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
}

export interface AssumeRoleOptions {
  roleArn: string;
  externalID?: string | undefined;
  sessionTags?: Array<{ key: string; value: string }> | undefined;
  transitiveTagKeys?: string[] | undefined;
}

/** sts:AssumeRole with `source` credentials, refreshed before expiry. */
export function assumeRoleProvider(sts: StsFactory, source: CredentialProvider | undefined, opts: AssumeRoleOptions): CredentialProvider {
  let client: Promise<StsClient> | undefined;
  return memoize(async () => {
    client ??= sts.client(source);
    const c = await client;
    const { AssumeRoleCommand } = await sts.module();
    const tags = opts.sessionTags?.map((t) => ({ Key: t.key, Value: t.value }));
    try {
      const out = await c.send(
        new AssumeRoleCommand({
          RoleArn: opts.roleArn,
          RoleSessionName: `tessera-${Date.now()}`,
          ...(opts.externalID ? { ExternalId: opts.externalID } : {}),
          ...(tags && tags.length > 0 ? { Tags: tags } : {}),
          ...(tags && tags.length > 0 && opts.transitiveTagKeys && opts.transitiveTagKeys.length > 0 ? { TransitiveTagKeys: opts.transitiveTagKeys } : {}),
        }),
      );
      return fromStsCredentials(out.Credentials, 'AssumeRole');
    } catch (err) {
      throw toProviderError(err, { service: 'STS', operation: 'AssumeRole', key: opts.roleArn });
    }
  });
}

/** sts:AssumeRoleWithWebIdentity with a fresh token from `token()` at every refresh. */
export function webIdentityProvider(sts: StsFactory, roleArn: string, token: () => Promise<string>, sessionName = WEB_IDENTITY_SESSION_NAME): CredentialProvider {
  let client: Promise<StsClient> | undefined;
  return memoize(async () => {
    const jwt = await token();
    // AssumeRoleWithWebIdentity is unsigned (the SDK picks its noAuth scheme): no source credentials.
    client ??= sts.client(undefined);
    const c = await client;
    const { AssumeRoleWithWebIdentityCommand } = await sts.module();
    try {
      const out = await c.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: roleArn, RoleSessionName: sessionName, WebIdentityToken: jwt }));
      return fromStsCredentials(out.Credentials, 'AssumeRoleWithWebIdentity');
    } catch (err) {
      throw toProviderError(err, { service: 'STS', operation: 'AssumeRoleWithWebIdentity', key: roleArn });
    }
  });
}

function credentialReadError(what: string, err: unknown): ProviderError {
  if (err instanceof ProviderError) return err;
  return new ProviderError('BadCredentials', `AWS auth: could not read ${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

interface BaseCredentials {
  provider: CredentialProvider | undefined;
  /** True when spec.role was already used as the web-identity role (no annotation to read). */
  roleConsumed: boolean;
}

async function baseCredentials(config: AWSProvider, ctx: ProviderContext, env: Record<string, string | undefined>, sts: StsFactory): Promise<BaseCredentials> {
  const jwt = config.auth?.jwt;
  if (jwt) {
    const sa = jwt.serviceAccountRef;
    if (!sa?.name) throw new ProviderError('InvalidRequest', 'spec.provider.aws.auth.jwt.serviceAccountRef.name: is required');
    let annotations: Record<string, string> = {};
    if (ctx.readServiceAccountAnnotations) {
      try {
        annotations = await ctx.readServiceAccountAnnotations({ name: sa.name, namespace: sa.namespace });
      } catch (err) {
        throw credentialReadError(`ServiceAccount ${sa.name}`, err);
      }
    }
    // ESO takes the role from the IRSA annotation. Without one, spec.role is the web-identity role.
    let roleArn = annotations[ROLE_ARN_ANNOTATION];
    let roleConsumed = false;
    if (!roleArn && config.role) {
      roleArn = config.role;
      roleConsumed = true;
    }
    if (!roleArn) {
      throw new ProviderError(
        'InvalidRequest',
        `AWS auth: an IAM role must be associated with service account ${sa.name} (annotation ${ROLE_ARN_ANNOTATION}) or set in spec.provider.aws.role`,
      );
    }
    const audiences = [annotations[AUDIENCE_ANNOTATION] || DEFAULT_TOKEN_AUDIENCE, ...(sa.audiences ?? [])];
    const token = async () => {
      try {
        return await ctx.createServiceAccountToken({ name: sa.name, namespace: sa.namespace, audiences });
      } catch (err) {
        throw credentialReadError(`a token for ServiceAccount ${sa.name}`, err);
      }
    };
    return { provider: webIdentityProvider(sts, roleArn, token), roleConsumed };
  }

  const secretRef = config.auth?.secretRef;
  if (secretRef) {
    const read = async (label: string, sel: typeof secretRef.accessKeyIDSecretRef) => {
      if (!sel?.name) throw new ProviderError('InvalidRequest', `spec.provider.aws.auth.secretRef.${label}: is required`);
      try {
        return (await ctx.readSecretKey(sel)).trim();
      } catch (err) {
        throw credentialReadError(`auth.secretRef.${label}`, err);
      }
    };
    const secretAccessKey = await read('secretAccessKeySecretRef', secretRef.secretAccessKeySecretRef);
    const accessKeyId = await read('accessKeyIDSecretRef', secretRef.accessKeyIDSecretRef);
    const sessionToken = secretRef.sessionTokenSecretRef ? await read('sessionTokenSecretRef', secretRef.sessionTokenSecretRef) : undefined;
    const creds: AwsCredentials = { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
    return { provider: async () => creds, roleConsumed: false };
  }

  // No auth block: the environment, as the SDK's default chain would read it. The SDK reads
  // process.env itself; this branch matters when the controller passes its own env (ctx.env).
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    const creds: AwsCredentials = {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    };
    return { provider: async () => creds, roleConsumed: false };
  }
  if (ctx.env && env.AWS_ROLE_ARN && env.AWS_WEB_IDENTITY_TOKEN_FILE) {
    const file = env.AWS_WEB_IDENTITY_TOKEN_FILE;
    const token = async () => {
      try {
        return (await readFile(file, 'utf8')).trim();
      } catch (err) {
        throw credentialReadError('AWS_WEB_IDENTITY_TOKEN_FILE', err);
      }
    };
    return { provider: webIdentityProvider(sts, env.AWS_ROLE_ARN, token, env.AWS_ROLE_SESSION_NAME || WEB_IDENTITY_SESSION_NAME), roleConsumed: false };
  }
  return { provider: undefined, roleConsumed: false };
}

/** The credential provider for a store; undefined means "let the SDK use its default chain". */
export async function storeCredentials(
  config: AWSProvider,
  ctx: ProviderContext,
  env: Record<string, string | undefined>,
  sts: StsFactory,
): Promise<CredentialProvider | undefined> {
  const base = await baseCredentials(config, ctx, env, sts);
  let creds = base.provider;
  for (const roleArn of config.additionalRoles ?? []) {
    creds = assumeRoleProvider(sts, creds, { roleArn });
  }
  if (config.role && !base.roleConsumed) {
    creds = assumeRoleProvider(sts, creds, {
      roleArn: config.role,
      externalID: config.externalID,
      sessionTags: (config.sessionTags ?? []).filter((t): t is { key: string; value: string } => t !== null),
      transitiveTagKeys: config.transitiveTagKeys,
    });
  }
  return creds;
}
