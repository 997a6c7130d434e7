// The AWS generators: STSSessionToken (sts:GetSessionToken) and ECRAuthorizationToken
// (ecr:GetAuthorizationToken). Credentials come from the generator's auth and role exactly as an
// AWS SecretStore's do (src/providers/aws/credentials.ts), read from the ExternalSecret's
// namespace; endpoints and region fall back to the operator's environment as the store's do.
// Output keys are ESO's.
import type { ECRAuthorizationTokenSpec, STSSessionTokenSpec } from '../api/types.generated.ts';
import type { ProviderContext } from '../providers/provider.ts';
import { storeCredentials, stsFactory } from '../providers/aws/credentials.ts';
import type { AWSProvider } from '../providers/aws/config.ts';
import { toProviderError } from '../providers/aws/errors.ts';
import { regionFrom } from '../providers/aws/refs.ts';
import { clientConfig, countApiCalls, withDeadline, type SdkSettings } from '../providers/aws/sdk.ts';
import { generatorErrors } from './errors.ts';

type AwsGeneratorSpec = Pick<STSSessionTokenSpec, 'region' | 'auth' | 'role'>;

/** The SDK settings and credentials of one generator call. */
async function session(spec: AwsGeneratorSpec, ctx: ProviderContext, field: string) {
  const env = ctx.env ?? process.env;
  const region = regionFrom(spec.region, env);
  if (region === undefined) throw generatorErrors.invalidSpec(`${field}.region`, 'is required');
  const settings: SdkSettings = { region, env, onApiCall: ctx.onApiCall, deadlineMs: ctx.callDeadlineMs };
  const sts = stsFactory(settings);
  // The store code's config shape: service is irrelevant to credentials.
  const config = { service: 'SecretsManager', region, auth: spec.auth, role: spec.role } as unknown as AWSProvider;
  const credentials = await storeCredentials(config, ctx, env, sts);
  return { settings, sts, credentials };
}

const text = (s: string) => Buffer.from(s, 'utf8');
const unixSeconds = (d: Date | undefined) => String(Math.floor((d?.getTime() ?? 0) / 1000));

export async function generateStsSessionToken(spec: STSSessionTokenSpec, ctx: ProviderContext, signal: AbortSignal, field = 'spec'): Promise<Record<string, Uint8Array>> {
  // As ESO: a web identity cannot call GetSessionToken (it needs long-term IAM user credentials).
  if (spec.auth?.jwt) throw generatorErrors.invalidSpec(`${field}.auth.jwt`, 'jwt auth cannot be used for STS session token generation');
  const { sts, credentials } = await session(spec, ctx, field);
  try {
    const [{ GetSessionTokenCommand }, client] = await Promise.all([sts.module(), sts.client(credentials)]);
    const p = spec.requestParameters;
    const out = await client.send(new GetSessionTokenCommand({
      DurationSeconds: p?.sessionDuration, SerialNumber: p?.serialNumber, TokenCode: p?.tokenCode,
    }), { abortSignal: signal }).catch((e: unknown) => {
      if (signal.aborted) throw e;
      throw toProviderError(e, { service: 'STS', operation: 'GetSessionToken' });
    });
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw toProviderError(new Error('no credentials found'), { service: 'STS', operation: 'GetSessionToken' });
    return {
      access_key_id: text(c.AccessKeyId),
      expiration: text(unixSeconds(c.Expiration)),
      secret_access_key: text(c.SecretAccessKey),
      session_token: text(c.SessionToken),
    };
  } finally {
    sts.close();
  }
}

/** ECR's token is base64("user:password"); ESO splits it in two keys. */
export function splitEcrToken(token: string, field: string): { username: string; password: string } {
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  const parts = decoded.split(':');
  if (parts.length !== 2) throw generatorErrors.invalidSpec(field, 'the authorization token has an unexpected format');
  return { username: parts[0]!, password: parts[1]! };
}

/**
 * ECR's private registry token. The public registry (scope: public) needs ECR Public's SDK, which
 * this build does not carry: refused by field.
 */
export async function generateEcrAuthorizationToken(spec: ECRAuthorizationTokenSpec, ctx: ProviderContext, signal: AbortSignal, field = 'spec'): Promise<Record<string, Uint8Array>> {
  if (spec.scope === 'public') throw generatorErrors.invalidSpec(`${field}.scope`, 'the public ECR registry is not supported by this build (private only)');
  const { settings, sts, credentials } = await session(spec, ctx, field);
  try {
    const sdk = await import('@aws-sdk/client-ecr');
    const client = new sdk.ECRClient(clientConfig(settings, 'ecr', credentials));
    countApiCalls(client, 'ecr', settings.onApiCall);
    withDeadline(client, settings.deadlineMs);
    try {
      const site = { service: 'ECR', operation: 'GetAuthorizationToken' };
      const out = await client.send(new sdk.GetAuthorizationTokenCommand({}), { abortSignal: signal }).catch((e: unknown) => {
        if (signal.aborted) throw e;
        throw toProviderError(e, site);
      });
      const data = out.authorizationData ?? [];
      if (data.length !== 1 || !data[0]!.authorizationToken) {
        throw toProviderError(new Error(`expected one authorization token, found ${data.length}`), site);
      }
      const { username, password } = splitEcrToken(data[0]!.authorizationToken, `${field}`);
      return {
        username: text(username),
        password: text(password),
        proxy_endpoint: text(data[0]!.proxyEndpoint ?? ''),
        expires_at: text(unixSeconds(data[0]!.expiresAt)),
      };
    } finally {
      client.destroy();
    }
  } finally {
    sts.close();
  }
}
