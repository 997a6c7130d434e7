// What every AWS SDK client of this provider shares: region, endpoint override, credentials,
// fail-fast retry and timeout settings, and the API-call counter hook.
import type { ApiCallDetail } from '../provider.ts';
import { endpointFromEnv } from './refs.ts';
import type { AwsServiceId } from './refs.ts';

/** Credentials as the SDK's credential identity (structurally identical). */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
  expiration?: Date | undefined;
}
export type CredentialProvider = () => Promise<AwsCredentials>;

export type OnApiCall = (operation: string, detail?: ApiCallDetail) => void;

export interface SdkSettings {
  region: string;
  env: Record<string, string | undefined>;
  onApiCall?: OnApiCall | undefined;
}

/** Three attempts in all and short timeouts: a dead endpoint should fail a reconcile in seconds. */
export const MAX_ATTEMPTS = 3;
export const CONNECTION_TIMEOUT_MS = 5_000;
/** AWS answers reads in well under a second; 5 s without a response means the endpoint is stuck. */
export const REQUEST_TIMEOUT_MS = 5_000;

/** ESO's provider label for the metric, per service. */
export const metricProvider: Record<AwsServiceId, string> = {
  secretsmanager: 'AWS/SecretsManager',
  ssm: 'AWS/ParameterStore',
  sts: 'AWS/STS',
};

export interface CommonClientConfig {
  region: string;
  endpoint?: string;
  credentials?: CredentialProvider;
  maxAttempts: number;
  requestHandler: { connectionTimeout: number; requestTimeout: number; throwOnRequestTimeout: true };
}

/** Client configuration for one service; `credentials` undefined means the SDK's default chain. */
export function clientConfig(settings: SdkSettings, service: AwsServiceId, credentials: CredentialProvider | undefined): CommonClientConfig {
  const endpoint = endpointFromEnv(settings.env, service);
  return {
    region: settings.region,
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(credentials !== undefined ? { credentials } : {}),
    maxAttempts: MAX_ATTEMPTS,
    // Without throwOnRequestTimeout the SDK only logs a warning when requestTimeout passes.
    requestHandler: { connectionTimeout: CONNECTION_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true },
  };
}

type Handler = (args: unknown) => Promise<unknown>;
type Middleware = (next: Handler, context: { commandName?: string }) => Handler;
interface WithMiddlewareStack {
  middlewareStack: { add(middleware: never, options: { step: 'initialize'; name: string; priority?: 'high' | 'low' | 'normal' }): void };
}

/**
 * Counts each command sent by `client` (once per command, retries included, as ESO observes
 * one call per SDK invocation).
 */
export function countApiCalls(client: WithMiddlewareStack, service: AwsServiceId, onApiCall: OnApiCall | undefined): void {
  if (!onApiCall) return;
  const provider = metricProvider[service];
  const middleware: Middleware = (next, context) => async (args) => {
    const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
    try {
      const out = await next(args);
      safeReport(onApiCall, operation, { provider, status: 'success' });
      return out;
    } catch (err) {
      safeReport(onApiCall, operation, { provider, status: 'error' });
      throw err;
    }
  };
  client.middlewareStack.add(middleware as never, { step: 'initialize', name: 'tesseraApiCallCounter', priority: 'high' });
}

function safeReport(onApiCall: OnApiCall, operation: string, detail: ApiCallDetail): void {
  try {
    onApiCall(operation, detail);
  } catch {
    // A metrics hook must never fail a read.
  }
}
