// spec.provider.aws: AWS Secrets Manager and Systems Manager Parameter Store.
// The SDK packages load on first use, so an operator without AWS stores never pays for them.
import { ProviderError } from '../provider.ts';
import type { Provider, ProviderClient, ProviderContext } from '../provider.ts';
import { validateAwsConfig } from './config.ts';
import type { AWSProvider } from './config.ts';
import { storeCredentials, stsFactory } from './credentials.ts';
import { regionFrom } from './refs.ts';
import { clientConfig, countApiCalls, withDeadline } from './sdk.ts';
import type { SdkSettings } from './sdk.ts';

export type { AWSProvider } from './config.ts';
export { validateAwsConfig } from './config.ts';

/** The SDK package and the reader of each service, loaded on first use. */
const loadSecretsManager = () => Promise.all([import('@aws-sdk/client-secrets-manager'), import('./secretsmanager.ts')]);
const loadParameterStore = () => Promise.all([import('@aws-sdk/client-ssm'), import('./parameterstore.ts')]);

async function newAwsClient(config: AWSProvider, ctx: ProviderContext): Promise<ProviderClient> {
  const problems = validateAwsConfig(config);
  if (problems.length > 0) throw new ProviderError('InvalidRequest', problems.join('; '));
  const env = ctx.env ?? process.env;
  const region = regionFrom(config.region, env);
  if (region === undefined) {
    throw new ProviderError('InvalidRequest', 'spec.provider.aws.region: is required (or set AWS_REGION in the operator environment)');
  }
  const settings: SdkSettings = { region, env, onApiCall: ctx.onApiCall, deadlineMs: ctx.callDeadlineMs };
  const sts = stsFactory(settings);
  const credentials = await storeCredentials(config, ctx, env, sts);
  const prefix = config.prefix ?? '';

  if (config.service === 'SecretsManager') {
    const [sdk, { SecretsManagerReader }] = await loadSecretsManager();
    const client = new sdk.SecretsManagerClient(clientConfig(settings, 'secretsmanager', credentials));
    countApiCalls(client, 'secretsmanager', ctx.onApiCall);
    withDeadline(client, settings.deadlineMs);
    return new SecretsManagerReader(sdk, client, { prefix, onClose: () => sts.close(), deletion: config.secretsManager });
  }
  const [sdk, { ParameterStoreReader }] = await loadParameterStore();
  const client = new sdk.SSMClient(clientConfig(settings, 'ssm', credentials));
  countApiCalls(client, 'ssm', ctx.onApiCall);
  withDeadline(client, settings.deadlineMs);
  return new ParameterStoreReader(sdk, client, { prefix, onClose: () => sts.close() });
}

export const awsProvider: Provider<AWSProvider> = {
  name: 'aws',
  validateConfig: (config) => validateAwsConfig(config),
  // status.capabilities as ESO 2.9 reports it for this provider: both services read and write.
  capabilities: () => 'ReadWrite',
  newClient: newAwsClient,
  warm: async (config) => {
    await (config?.service === 'SecretsManager' ? loadSecretsManager() : loadParameterStore());
  },
  controllerIdentity: (config) => awsControllerIdentity(config),
};

/**
 * Without auth.secretRef or auth.jwt, the base credentials are the controller's own: its
 * environment (AWS_ACCESS_KEY_ID, AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN) or the SDK's default
 * chain (shared config profile, instance or container role). role and additionalRoles are then
 * assumed with the controller's identity too. No store field selects a profile or a file.
 */
export function awsControllerIdentity(config: AWSProvider): { field: string; uses: string } | undefined {
  if (config?.auth?.secretRef || config?.auth?.jwt) return undefined;
  return { field: 'spec.provider.aws.auth', uses: "the controller's own AWS credentials (auth is not set, so the default credential chain of the controller applies: its environment, web identity token, shared config or instance role)" };
}
