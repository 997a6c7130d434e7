// What every AWS SDK client of this provider shares: region, endpoint override, credentials,
// fail-fast retry and timeout settings, and the API-call counter hook.
import type { ApiCallDetail } from '../provider.ts';
import { CallLimitError, callLimits, providerProxyOptions } from '../common/http.ts';
import { abortReason } from '../../shared-call.ts';
import { startDeadline } from '../../deadline.ts';
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
  /** Total deadline of one command, retries included (ms); providers/common's default when absent. */
  deadlineMs?: number | undefined;
}

/** Three attempts in all and short timeouts: a dead endpoint should fail a reconcile in seconds. */
export const MAX_ATTEMPTS = 3;
export const CONNECTION_TIMEOUT_MS = 5_000;
/**
 * AWS answers reads in well under a second; 5 s without a response means the endpoint is stuck.
 * This is the SDK's socket timeout (an idle timeout, reset by every byte); the total deadline of a
 * command is withDeadline's.
 */
export const REQUEST_TIMEOUT_MS = 5_000;

/** ESO's provider label for the metric, per service. */
export const metricProvider: Record<AwsServiceId, string> = {
  secretsmanager: 'AWS/SecretsManager',
  ssm: 'AWS/ParameterStore',
  sts: 'AWS/STS',
  ecr: 'AWS/ECR',
};

export interface CommonClientConfig {
  region: string;
  endpoint?: string;
  credentials?: CredentialProvider;
  maxAttempts: number;
  requestHandler: {
    connectionTimeout: number;
    requestTimeout: number;
    throwOnRequestTimeout: true;
    /** Options of the SDK's own agents (NodeHttpHandler adds keepAlive and maxSockets): here, the proxy. */
    httpAgent?: { proxyEnv: Record<string, string> };
    httpsAgent?: { proxyEnv: Record<string, string> };
  };
}

/**
 * The endpoint the SDK calls for `service` when none is configured: only its host matters, to
 * decide whether NO_PROXY exempts it (a NO_PROXY of .amazonaws.com, or of a VPC endpoint's name
 * given as the endpoint URL).
 */
function defaultEndpoint(service: AwsServiceId, region: string): string {
  return `https://${service}.${region}.${region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}`;
}

/** Client configuration for one service; `credentials` undefined means the SDK's default chain. */
export function clientConfig(settings: SdkSettings, service: AwsServiceId, credentials: CredentialProvider | undefined): CommonClientConfig {
  const endpoint = endpointFromEnv(settings.env, service);
  const { proxyEnv } = providerProxyOptions(endpoint ?? defaultEndpoint(service, settings.region), settings.env);
  return {
    region: settings.region,
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(credentials !== undefined ? { credentials } : {}),
    maxAttempts: MAX_ATTEMPTS,
    // Without throwOnRequestTimeout the SDK only logs a warning when requestTimeout passes.
    requestHandler: {
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      throwOnRequestTimeout: true,
      ...(proxyEnv ? { httpAgent: { proxyEnv }, httpsAgent: { proxyEnv } } : {}),
    },
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

interface SendsCommands {
  send(command: never, options?: unknown): Promise<unknown>;
}

/**
 * Gives every command of `client` a total deadline, retries included (combined with the caller's
 * `abortSignal` when it gives one): the SDK's own timeouts are
 * per attempt and reset by each byte, so an endpoint that answers slowly (a frozen moto, a proxy
 * dripping bytes) would otherwise hold a reconcile worker without end. A command that runs past
 * it is aborted and fails with a CallLimitError (toProviderError: Unreachable, "deadline of 30s
 * exceeded"). The client's send is wrapped once, here, rather than at each call site.
 */
export function withDeadline(client: SendsCommands, deadlineMs: number | undefined): void {
  const { deadlineMs: ms } = callLimits(deadlineMs);
  const send = client.send.bind(client) as (command: unknown, options?: unknown) => Promise<unknown>;
  const wrapped = async (command: unknown, options?: unknown): Promise<unknown> => {
    const given = (options as { abortSignal?: AbortSignal } | undefined)?.abortSignal;
    const deadline = startDeadline(given, ms);
    try {
      return await send(command, { ...(typeof options === 'object' && options !== null ? options : {}), abortSignal: deadline.signal });
    } catch (err) {
      // The caller's cancellation is its own reason; the command's deadline is a failed call.
      if (given?.aborted) throw abortReason(given);
      if (deadline.expired) throw new CallLimitError('DEADLINE_EXCEEDED', ms);
      throw err;
    } finally {
      deadline.release();
    }
  };
  (client as { send: unknown }).send = wrapped;
}
