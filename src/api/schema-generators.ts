// The generators.external-secrets.io/v1alpha1 kinds of ESO 2.9 (apis/generators/v1alpha1): each
// namespaced generator, ClusterGenerator (one generator spec, cluster-wide) and GeneratorState.
//
// Why these shapes: ESO manifests must apply unchanged, so field names, enums and defaults follow
// ESO's. The kinds Tessera runs (Password, UUID, Fake, SSHKey, MFA, ECRAuthorizationToken,
// STSSessionToken, VaultDynamicSecret, Webhook) are modelled field by field, with bounds on what
// drives work (a password's length, an RSA key's size); the kinds that need a cloud this build
// cannot reach (ACR, GCR, Quay, GitHub, GitLab, Grafana, Cloudsmith, BeyondTrust) keep their spec
// as written, are admitted, and are reported unsupported by name when an ExternalSecret uses them.
import { GENERATOR_KINDS, type GeneratorKind, type NamespacedGeneratorKind } from './constants.ts';
import { arr, bool, enumOf, int, named, obj, opaque, str, stringMap, type Schema } from './openapi.ts';
import {
  DURATION_PATTERN, awsAuth, caProvider, secretKeyName, secretKeySelector, statusCondition, subdomainName, vaultProvider,
} from './schema.ts';

/** The kinds this build generates values for; every other generator kind is admitted and refused at run time. */
export const SUPPORTED_GENERATOR_KINDS: ReadonlySet<NamespacedGeneratorKind> = new Set([
  'Password', 'UUID', 'Fake', 'SSHKey', 'MFA', 'ECRAuthorizationToken', 'STSSessionToken', 'VaultDynamicSecret', 'Webhook',
]);

/** Bounds on what a tenant's generator spec makes the controller compute. */
export const MAX_PASSWORD_LENGTH = 4096;
export const MAX_PASSWORD_KEYS = 64;
export const MAX_SYMBOL_CHARACTERS = 256;
export const MIN_RSA_BITS = 2048;
export const MAX_RSA_BITS = 4096;
export const MAX_SSH_COMMENT = 1024;
export const MAX_TOTP_DIGITS = 10;
export const MAX_WEBHOOK_BODY = 1024 * 1024;

/** ClusterGenerator.spec.generator keys: one per namespaced kind, as ESO names them. */
export const CLUSTER_GENERATOR_SPEC_KEYS: Readonly<Record<NamespacedGeneratorKind, string>> = {
  ACRAccessToken: 'acrAccessTokenSpec',
  BeyondtrustWorkloadCredentialsDynamicSecret: 'beyondtrustWorkloadCredentialsDynamicSecretSpec',
  CloudsmithAccessToken: 'cloudsmithAccessTokenSpec',
  ECRAuthorizationToken: 'ecrAuthorizationTokenSpec',
  Fake: 'fakeSpec',
  GCRAccessToken: 'gcrAccessTokenSpec',
  GithubAccessToken: 'githubAccessTokenSpec',
  GitlabDeployToken: 'gitlabDeployTokenSpec',
  QuayAccessToken: 'quayAccessTokenSpec',
  Password: 'passwordSpec',
  SSHKey: 'sshKeySpec',
  STSSessionToken: 'stsSessionTokenSpec',
  UUID: 'uuidSpec',
  VaultDynamicSecret: 'vaultDynamicSecretSpec',
  Webhook: 'webhookSpec',
  Grafana: 'grafanaSpec',
  MFA: 'mfaSpec',
};

export function isGeneratorKind(kind: string): kind is GeneratorKind {
  return kind === 'ClusterGenerator' || kind === 'GeneratorState' || (GENERATOR_KINDS as readonly string[]).includes(kind);
}

function passwordSpec(): Schema {
  return named('PasswordSpec', obj({
    length: int('Length of the password to be generated. Defaults to 24.', { default: 24, minimum: 1, maximum: MAX_PASSWORD_LENGTH }),
    digits: int('Digits specifies the number of digits in the generated password. If omitted it defaults to 25% of the length of the password.', { minimum: 0, maximum: MAX_PASSWORD_LENGTH }),
    symbols: int('Symbols specifies the number of symbol characters in the generated password. If omitted it defaults to 25% of the length of the password.', { minimum: 0, maximum: MAX_PASSWORD_LENGTH }),
    symbolCharacters: str('SymbolCharacters specifies the special characters that should be used in the generated password.', { maxLength: MAX_SYMBOL_CHARACTERS }),
    noUpper: bool('Set NoUpper to disable uppercase characters', { default: false }),
    allowRepeat: bool('set AllowRepeat to true to allow repeating characters.', { default: false }),
    secretKeys: arr(str(undefined, { minLength: 1, maxLength: 253 }), 'SecretKeys defines the keys that will be populated with generated passwords. Defaults to "password" when not set.', { minItems: 1, maxItems: MAX_PASSWORD_KEYS }),
    encoding: enumOf(['base64', 'base64url', 'base32', 'hex', 'raw'], 'Encoding specifies the encoding of the generated password: raw (default), base64, base64url, base32 or hex.', { default: 'raw' }),
  }, 'PasswordSpec controls the behavior of the password generator.'));
}

function fakeSpec(): Schema {
  return named('FakeSpec', obj({
    controller: str('Used to select the correct ESO controller (think: ingress.ingressClassName)'),
    data: stringMap('Data defines the static data returned by this generator.'),
  }, 'FakeSpec contains the static data.'));
}

function sshKeySpec(): Schema {
  return named('SSHKeySpec', obj({
    keyType: enumOf(['rsa', 'ecdsa', 'ed25519'], 'KeyType specifies the SSH key type (rsa, ecdsa, ed25519)', { default: 'rsa' }),
    keySize: int('KeySize specifies the key size for RSA keys (default: 2048) and ECDSA keys (default: 256). Ignored for ed25519 keys. Tessera generates RSA keys of 2048 to 4096 bits.', { minimum: 256, maximum: 8192 }),
    comment: str('Comment specifies an optional comment for the SSH key', { maxLength: MAX_SSH_COMMENT }),
  }, 'SSHKeySpec controls the behavior of the ssh key generator.'));
}

function mfaSpec(): Schema {
  return named('MFASpec', obj({
    'secret!': secretKeySelector('Secret is a secret selector to a secret containing the seed secret to generate the TOTP value from.'),
    length: int('Length defines the token length. Defaults to 6 characters.', { minimum: 0, maximum: MAX_TOTP_DIGITS }),
    timePeriod: int('TimePeriod defines how long the token can be active. Defaults to 30 seconds.', { minimum: 0 }),
    algorithm: str('Algorithm to use for encoding. Defaults to SHA1 as per the RFC.'),
    when: str('When defines a time parameter that can be used to pin the origin time of the generated token.', { format: 'date-time' }),
  }, 'MFASpec controls the behavior of the mfa generator.'));
}

function ecrSpec(): Schema {
  return named('ECRAuthorizationTokenSpec', obj({
    'region!': str('Region specifies the region to operate in.'),
    auth: awsAuth(),
    role: str('You can assume a role before making calls to the desired AWS service.'),
    scope: str('Scope specifies the ECR service scope. Valid options are private and public.'),
  }, 'ECRAuthorizationTokenSpec defines the desired state to generate an AWS ECR authorization token.'));
}

function stsSpec(): Schema {
  return named('STSSessionTokenSpec', obj({
    'region!': str('Region specifies the region to operate in.'),
    auth: awsAuth(),
    role: str('You can assume a role before making calls to the desired AWS service.'),
    requestParameters: named('RequestParameters', obj({
      sessionDuration: int('SessionDuration The duration, in seconds, that the credentials should remain valid.', { format: 'int32' }),
      serialNumber: str('SerialNumber is the identification number of the MFA device that is associated with the IAM user who is making the GetSessionToken call.'),
      tokenCode: str('TokenCode is the value provided by the MFA device, if MFA is required.'),
    }, 'RequestParameters contains parameters that can be passed to the STS service.')),
  }, 'STSSessionTokenSpec defines the desired state to generate an AWS STS session token.'));
}

function vaultDynamicSecretSpec(): Schema {
  return named('VaultDynamicSecretSpec', obj({
    controller: str('Used to select the correct ESO controller (think: ingress.ingressClassName)'),
    method: str('Vault API method to use (GET/POST/other)'),
    parameters: { description: 'Parameters to pass to Vault write (for non-GET methods)', 'x-kubernetes-preserve-unknown-fields': true },
    getParameters: { type: 'object', description: 'GetParameters are query-string parameters passed to Vault on GET calls.', additionalProperties: arr(str()) },
    resultType: enumOf(['Data', 'Auth', 'Raw'], 'Result type defines which data is returned from the generator: the "data" section (default), the "auth" section, or the raw response.', { default: 'Data' }),
    retrySettings: named('SecretStoreRetrySettings', obj({
      maxRetries: int(undefined, { format: 'int32' }),
      retryInterval: str(),
    }, 'Used to configure http retries if failed')),
    'provider!': vaultProvider(),
    'path!': str('Vault path to obtain the dynamic secret from'),
    allowEmptyResponse: bool('Do not fail if no secrets are found. Useful for requests where no data is expected.', { default: false }),
  }, 'VaultDynamicSecretSpec defines the desired spec of VaultDynamicSecret.'));
}

function webhookSpec(): Schema {
  const webhookSecretKeySelector = named('WebhookSecretKeySelector', obj({
    name: subdomainName('The name of the Secret resource being referred to.'),
    key: secretKeyName('The key where the token is found.'),
  }, 'SecretKeySelector defines a reference to a specific key within a Kubernetes Secret.'));
  return named('WebhookSpec', obj({
    method: str('Webhook Method'),
    'url!': str('Webhook url to call'),
    headers: stringMap('Headers'),
    auth: named('AuthorizationProtocol', obj({
      ntlm: named('NTLMProtocol', obj({
        'usernameSecret!': secretKeySelector(),
        'passwordSecret!': secretKeySelector(),
      }, 'NTLMProtocol configures the store to use NTLM for auth')),
    }, 'Auth specifies a authorization protocol. Only one protocol may be set.', { minProperties: 1, maxProperties: 1 })),
    body: str('Body', { maxLength: MAX_WEBHOOK_BODY }),
    timeout: str('Timeout', { pattern: DURATION_PATTERN, maxLength: 64 }),
    'result!': named('WebhookResult', obj({
      jsonPath: str('Json path of return value'),
    }, 'Result formatting')),
    secrets: arr(named('WebhookSecret', obj({
      'name!': str('Name of this secret in templates'),
      'secretRef!': webhookSecretKeySelector,
    })), 'Secrets to fill in templates. These secrets will be passed to the templating function as key value pairs under the given name'),
    caBundle: str('PEM encoded CA bundle used to validate webhook server certificate.', { format: 'byte' }),
    caProvider: caProvider(),
  }, 'WebhookSpec controls the behavior of the external generator.'));
}

/** The spec of one namespaced kind; the kinds this build does not run keep theirs as written. */
function generatorSpec(kind: NamespacedGeneratorKind): Schema {
  switch (kind) {
    case 'Password': return passwordSpec();
    case 'UUID': return named('UUIDSpec', obj({}, 'UUIDSpec controls the behavior of the uuid generator.'));
    case 'Fake': return fakeSpec();
    case 'SSHKey': return sshKeySpec();
    case 'MFA': return mfaSpec();
    case 'ECRAuthorizationToken': return ecrSpec();
    case 'STSSessionToken': return stsSpec();
    case 'VaultDynamicSecret': return vaultDynamicSecretSpec();
    case 'Webhook': return webhookSpec();
    default:
      return opaque(`The ${kind} generator's spec as ESO defines it. Tessera keeps it as written; this build does not run the ${kind} generator.`);
  }
}

function clusterGeneratorSpec(): Schema {
  const specs: Record<string, Schema> = {};
  for (const kind of GENERATOR_KINDS) specs[CLUSTER_GENERATOR_SPEC_KEYS[kind]] = generatorSpec(kind);
  return named('ClusterGeneratorSpec', obj({
    'kind!': enumOf([...GENERATOR_KINDS], 'Kind the kind of this generator.'),
    'generator!': named('GeneratorSpec', obj(specs, 'Generator the spec for this generator, must match the kind.', { minProperties: 1, maxProperties: 1 })),
  }, 'ClusterGeneratorSpec defines the desired state of a ClusterGenerator.'));
}

function generatorStateSpec(): Schema {
  return named('GeneratorStateSpec', obj({
    garbageCollectionDeadline: str('GarbageCollectionDeadline is the time after which the generator state will be deleted.', { format: 'date-time' }),
    'resource!': { description: 'Resource is the generator manifest that produced the state.', 'x-kubernetes-preserve-unknown-fields': true },
    'state!': { description: 'State is the state that was produced by the generator implementation.', 'x-kubernetes-preserve-unknown-fields': true },
  }, 'GeneratorStateSpec defines the desired state of a generator state resource.'));
}

const DESCRIPTIONS: Record<GeneratorKind, string> = {
  ACRAccessToken: 'ACRAccessToken returns an Azure Container Registry token that can be used for pushing/pulling images.',
  BeyondtrustWorkloadCredentialsDynamicSecret: 'BeyondtrustWorkloadCredentialsDynamicSecret generates dynamic secrets from BeyondTrust Workload Credentials.',
  CloudsmithAccessToken: 'CloudsmithAccessToken generates Cloudsmith access token using OIDC authentication.',
  ECRAuthorizationToken: 'ECRAuthorizationToken uses the GetAuthorizationToken API to retrieve an authorization token.',
  Fake: 'Fake generator is used for testing. It lets you define a static set of credentials that is always returned.',
  GCRAccessToken: 'GCRAccessToken generates an GCP access token that can be used to authenticate with GCR.',
  GithubAccessToken: 'GithubAccessToken generates ghs_ accessToken.',
  GitlabDeployToken: 'GitlabDeployToken generates a GitLab deploy token.',
  QuayAccessToken: 'QuayAccessToken generates Quay oauth token for pulling/pushing images.',
  Password: 'Password generates a random password based on the configuration parameters in spec.',
  SSHKey: 'SSHKey generates SSH key pairs.',
  STSSessionToken: 'STSSessionToken uses the GetSessionToken API to retrieve an authorization token.',
  UUID: 'UUID generates a version 4 UUID.',
  VaultDynamicSecret: 'VaultDynamicSecret represents a generator that can create dynamic secrets from HashiCorp Vault.',
  Webhook: 'Webhook connects to a third party API server to handle the secrets generation configuration parameters in spec.',
  Grafana: 'Grafana represents a generator for Grafana service account tokens.',
  MFA: 'MFA generates a new TOTP token that is compliant with RFC 6238.',
  ClusterGenerator: 'ClusterGenerator represents a cluster-wide generator which can be referenced as part of `generatorRef` fields.',
  GeneratorState: 'GeneratorState represents the state created and managed by a generator resource.',
};

/**
 * The openAPIV3Schema of one generator kind (v1alpha1). spec is optional as in ESO (a UUID needs
 * none); generators have no status fields, GeneratorState has conditions.
 */
export function generatorSchemaFor(kind: GeneratorKind): Schema {
  const spec = kind === 'ClusterGenerator' ? clusterGeneratorSpec() : kind === 'GeneratorState' ? generatorStateSpec() : generatorSpec(kind);
  return named(kind, obj({
    apiVersion: str('APIVersion defines the versioned schema of this representation of an object.'),
    kind: str('Kind is a string value representing the REST resource this object represents.'),
    metadata: { type: 'object' },
    spec,
    ...(kind === 'GeneratorState'
      ? { status: named('GeneratorStateStatus', obj({ conditions: arr(statusCondition('GeneratorStateStatusCondition')) })) }
      : {}),
  }, DESCRIPTIONS[kind]));
}

/** kubectl columns: ESO declares none for generators (AGE only) and two for GeneratorState. */
export function generatorPrinterColumns(kind: GeneratorKind): Array<{ name: string; type: 'string' | 'date'; jsonPath: string }> {
  if (kind !== 'GeneratorState') return [];
  return [
    { name: 'GC Deadline', type: 'string', jsonPath: '.spec.garbageCollectionDeadline' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ];
}
