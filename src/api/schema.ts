// The one source of truth for the external-secrets.io kinds Tessera serves. Field names, enums,
// defaults and patterns follow ESO's API (apis/externalsecrets/v1 and v1beta1). Cross-field rules
// that ESO enforces in its validating webhook are expressed as CEL here, so the apiserver itself
// refuses invalid objects and no webhook is needed.
import type { ApiKind, ApiVersionName } from './constants.ts';
import { clusterExternalSecretSchema } from './schema-clusterexternalsecret.ts';
import {
  arr, bool, cel, enumOf, int, intOrString, named, obj, opaque, str, stringMap,
  type Schema,
} from './openapi.ts';
import { azureKVProvider } from './schema-azurekv.ts';
import { clusterPushSecretSchema, pushSecretSchema } from './schema-pushsecret.ts';
import { generatorSchemaFor, isGeneratorKind } from './schema-generators.ts';

// ---------------------------------------------------------------------------------------------
// Shared patterns and limits
// ---------------------------------------------------------------------------------------------

/** DNS-1123 subdomain: names of Secrets, stores, ConfigMaps. */
export const DNS1123_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
/** DNS-1123 label: namespace names. */
export const DNS1123_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
/** Keys of a Secret's data. */
export const SECRET_KEY_PATTERN = '^[-._a-zA-Z0-9]+$';
/**
 * Go time.ParseDuration syntax without a sign ("1h", "2h30m", "1.5s", "0"). ESO leaves the field
 * unvalidated and fails at reconcile; refusing it at admission names the field instead.
 */
export const DURATION_PATTERN = '^(0|(([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$';
/**
 * spec.data is bounded so the apiserver accepts the duplicate-secretKey CEL rule (quadratic in the
 * list length); the bound is far above real-world use.
 */
export const MAX_DATA_ITEMS = 250;
/**
 * templateFrom[].target of v1: Data, Annotations or Labels in any case, or empty (Data), or, for
 * a generic target (spec.target.manifest), ESO 2.9's path into the object (`spec.database`,
 * `spec.rules[0].from`). The sync core refuses a path for a Secret or ConfigMap target.
 */
export const TEMPLATE_TARGET_ANY_CASE = '^([Dd][Aa][Tt][Aa]|[Aa][Nn][Nn][Oo][Tt][Aa][Tt][Ii][Oo][Nn][Ss]|[Ll][Aa][Bb][Ee][Ll][Ss]|[A-Za-z0-9_-]+(\\[[0-9]+\\])*(\\.[A-Za-z0-9_-]+(\\[[0-9]+\\])*)*)?$';
export const MAX_TEMPLATE_TARGET_LENGTH = 256;
/**
 * spec.syncWindows.windows[].schedule as ESO 2.9's CRD admits it: a named shorthand, `@every`
 * with a duration, or five space-separated cron fields. The sync core parses it (src/sync/cron.ts).
 */
export const SYNC_WINDOW_SCHEDULE_PATTERN = '^(@(annually|yearly|monthly|weekly|daily|midnight|hourly)|@every [^\\s]+.*|[^\\s]+( [^\\s]+){4})$';
/** Bounds on tenant-written sync windows (ESO has none): each one is evaluated on every refresh. */
export const MAX_SYNC_WINDOWS = 32;
export const MAX_SYNC_WINDOW_SCHEDULE_LENGTH = 128;

export const subdomainName = (description: string) =>
  str(description, { minLength: 1, maxLength: 253, pattern: DNS1123_SUBDOMAIN });
export const namespaceName = (description: string) =>
  str(description, { minLength: 1, maxLength: 63, pattern: DNS1123_LABEL });
export const secretKeyName = (description: string) =>
  str(description, { minLength: 1, maxLength: 253, pattern: SECRET_KEY_PATTERN });

// ---------------------------------------------------------------------------------------------
// Shared references (apis/meta/v1)
// ---------------------------------------------------------------------------------------------

export function secretKeySelector(description = 'A reference to a specific key within a Secret resource.'): Schema {
  return named('SecretKeySelector', obj({
    name: subdomainName('The name of the Secret resource being referred to.'),
    namespace: namespaceName('The namespace of the Secret resource being referred to. Ignored if referent is not cluster-scoped, otherwise defaults to the namespace of the referent.'),
    key: secretKeyName('A key in the referenced Secret. Some instances of this field may be defaulted, in others it may be required.'),
  }, description));
}

export function serviceAccountSelector(description = 'A reference to a ServiceAccount resource.'): Schema {
  return named('ServiceAccountSelector', obj({
    'name!': subdomainName('The name of the ServiceAccount resource being referred to.'),
    namespace: namespaceName('Namespace of the resource being referred to. Ignored if referent is not cluster-scoped, otherwise defaults to the namespace of the referent.'),
    audiences: arr(str(), 'Audience specifies the `aud` claim for the service account token.'),
  }, description));
}

export function caProvider(): Schema {
  return named('CAProvider', obj({
    'type!': enumOf(['Secret', 'ConfigMap'], 'The type of provider to use such as "Secret", or "ConfigMap".'),
    'name!': subdomainName('The name of the object located at the provider type.'),
    key: secretKeyName('The key where the CA certificate can be found in the Secret or ConfigMap.'),
    namespace: namespaceName('The namespace the Provider type is in. Can only be defined when used in a ClusterSecretStore.'),
  }, 'Used to provide custom certificate authority (CA) certificates for a secret store.'));
}

export function labelSelector(description: string): Schema {
  return named('LabelSelector', obj({
    matchExpressions: arr(named('LabelSelectorRequirement', obj({
      'key!': str('key is the label key that the selector applies to.'),
      'operator!': str("operator represents a key's relationship to a set of values. Valid operators are In, NotIn, Exists and DoesNotExist."),
      values: arr(str(), 'values is an array of string values.', { 'x-kubernetes-list-type': 'atomic' }),
    })), 'matchExpressions is a list of label selector requirements. The requirements are ANDed.', { 'x-kubernetes-list-type': 'atomic' }),
    matchLabels: stringMap('matchLabels is a map of {key,value} pairs.'),
  }, description, { 'x-kubernetes-map-type': 'atomic' }));
}

// ---------------------------------------------------------------------------------------------
// Providers
// ---------------------------------------------------------------------------------------------

export function awsAuth(): Schema {
  return named('AWSAuth', obj({
    secretRef: named('AWSAuthSecretRef', obj({
      accessKeyIDSecretRef: secretKeySelector('The AccessKeyID is used for authentication'),
      secretAccessKeySecretRef: secretKeySelector('The SecretAccessKey is used for authentication'),
      sessionTokenSecretRef: secretKeySelector('The SessionToken used for authentication. This must be defined if AccessKeyID and SecretAccessKey are temporary credentials.'),
    }, 'AWSAuthSecretRef holds secret references for AWS credentials; both AccessKeyID and SecretAccessKey must be defined.')),
    jwt: named('AWSJWTAuth', obj({
      serviceAccountRef: serviceAccountSelector(),
    }, 'Authenticate against AWS using service account tokens.')),
  }, 'Auth defines the information necessary to authenticate against AWS; if not set the SDK default credential chain is used.'));
}

function awsProvider(): Schema {
  return named('AWSProvider', obj({
    // CertificateManager is ESO 2.9's enum too: admitted so ESO manifests apply, and reported on the
    // store's status as unsupported by this build (spec.provider.aws.service) at run time.
    'service!': enumOf(['SecretsManager', 'ParameterStore', 'CertificateManager'], 'Service defines which service should be used to fetch the secrets'),
    auth: awsAuth(),
    role: str('Role is a Role ARN which the provider will assume'),
    'region!': str('AWS Region to be used for the provider'),
    additionalRoles: arr(str(), 'AdditionalRoles is a chained list of Role ARNs which the provider will sequentially assume before assuming the Role'),
    externalID: str('AWS External ID set on assumed IAM roles'),
    sessionTags: arr(named('AWSTag', obj({ 'key!': str(), 'value!': str() })), 'AWS STS assume role session tags'),
    secretsManager: named('AWSSecretsManagerSettings', obj({
      forceDeleteWithoutRecovery: bool('Specifies whether to delete the secret without any recovery window.'),
      recoveryWindowInDays: int('The number of days from 7 to 30 that Secrets Manager waits before permanently deleting the secret.', { format: 'int64' }),
    }, 'SecretsManager defines how the provider behaves when interacting with AWS SecretsManager')),
    transitiveTagKeys: arr(str(), 'AWS STS assume role transitive session tags. Required when multiple rules are used with the provider'),
    sessionTagsPolicy: enumOf(['None', 'Simple', 'Custom'], 'SessionTagsPolicy controls whether and how STS session tags are added when assuming roles.', { default: 'None' }),
    customSessionTags: stringMap('CustomSessionTags defines additional STS session tags to include when SessionTagsPolicy is Custom.'),
    prefix: str('Prefix adds a prefix to all retrieved values.'),
  }, 'AWS configures this store to sync secrets using AWS Secret Manager provider'));
}

function vaultAwsSecretRef(): Schema {
  return named('VaultAwsAuthSecretRef', obj({
    accessKeyIDSecretRef: secretKeySelector('The AccessKeyID is used for authentication'),
    secretAccessKeySecretRef: secretKeySelector('The SecretAccessKey is used for authentication'),
    sessionTokenSecretRef: secretKeySelector('The SessionToken used for authentication'),
  }, 'Credentials for AWS in a Secret object'));
}

export function vaultProvider(): Schema {
  return named('VaultProvider', obj({
    auth: named('VaultAuth', obj({
      namespace: str('Name of the vault namespace to authenticate to. Defaults to the provider namespace if set.'),
      tokenSecretRef: secretKeySelector('TokenSecretRef authenticates with Vault by presenting a token.'),
      appRole: named('VaultAppRole', obj({
        'path!': str('Path where the App Role authentication backend is mounted in Vault, e.g: "approle"', { default: 'approle' }),
        roleId: str('RoleID configured in the App Role authentication backend.'),
        roleRef: secretKeySelector('Reference to a key in a Secret that contains the App Role ID used to authenticate with Vault.'),
        'secretRef!': secretKeySelector('Reference to a key in a Secret that contains the App Role secret used to authenticate with Vault.'),
      }, 'AppRole authenticates with Vault using the App Role auth mechanism.')),
      kubernetes: named('VaultKubernetesAuth', obj({
        'mountPath!': str('Path where the Kubernetes authentication backend is mounted in Vault, e.g: "kubernetes"', { default: 'kubernetes' }),
        serviceAccountRef: serviceAccountSelector('Optional ServiceAccount whose token is requested through the TokenRequest API.'),
        secretRef: secretKeySelector('Optional secret field containing a Kubernetes ServiceAccount JWT.'),
        'role!': str('A required field containing the Vault Role to assume.'),
      }, 'Kubernetes authenticates with Vault by passing a ServiceAccount token.')),
      ldap: named('VaultLdapAuth', obj({
        'path!': str('Path where the LDAP authentication backend is mounted in Vault, e.g: "ldap"', { default: 'ldap' }),
        'username!': str('Username is an LDAP username used to authenticate using the LDAP Vault authentication method'),
        secretRef: secretKeySelector('SecretRef to a key in a Secret resource containing password for the LDAP user.'),
      }, 'Ldap authenticates with Vault by passing username/password pair using the LDAP authentication method')),
      jwt: named('VaultJwtAuth', obj({
        'path!': str('Path where the JWT authentication backend is mounted in Vault, e.g: "jwt"', { default: 'jwt' }),
        role: str('Role is a JWT role to authenticate using the JWT/OIDC Vault authentication method'),
        secretRef: secretKeySelector('Optional SecretRef that refers to a key in a Secret resource containing JWT token.'),
        kubernetesServiceAccountToken: named('VaultKubernetesServiceAccountTokenAuth', obj({
          'serviceAccountRef!': serviceAccountSelector(),
          audiences: arr(str(), 'Deprecated: use serviceAccountRef.audiences instead.'),
          expirationSeconds: int('Deprecated: this will be removed in the future. Defaults to 10 minutes.'),
        }, 'Optional ServiceAccountToken specifies the Kubernetes service account for which to request a token with the TokenRequest API.')),
      }, 'Jwt authenticates with Vault by passing role and JWT token using the JWT/OIDC authentication method')),
      cert: named('VaultCertAuth', obj({
        path: str('Path where the Certificate authentication backend is mounted in Vault, e.g: "cert"', { default: 'cert' }),
        clientCert: secretKeySelector('ClientCert is a certificate to authenticate using the Cert Vault authentication method'),
        secretRef: secretKeySelector('SecretRef to a key in a Secret resource containing client private key.'),
        vaultRole: str('VaultRole specifies the Vault role to use for TLS certificate authentication (the name of the certificate role in the cert auth backend).'),
      }, 'Cert authenticates with TLS Certificates.')),
      iam: named('VaultIamAuth', obj({
        path: str('Path where the AWS auth method is enabled in Vault, e.g: "aws"'),
        region: str('AWS region'),
        role: str('This is the AWS role to be assumed before talking to vault'),
        'vaultRole!': str('Vault Role. In vault, a role describes an identity with a set of permissions.'),
        externalID: str('AWS External ID set on assumed IAM roles'),
        vaultAwsIamServerID: str('X-Vault-AWS-IAM-Server-ID header value.'),
        secretRef: vaultAwsSecretRef(),
        jwt: named('VaultAwsJWTAuth', obj({ serviceAccountRef: serviceAccountSelector() }, 'Specify a service account with IRSA enabled')),
      }, 'Iam authenticates with vault by passing a special AWS request signed with AWS IAM credentials')),
      userPass: named('VaultUserPassAuth', obj({
        'path!': str('Path where the UserPassword authentication backend is mounted in Vault, e.g: "userpass"', { default: 'userpass' }),
        'username!': str('Username is a username used to authenticate using the UserPass Vault authentication method'),
        secretRef: secretKeySelector('SecretRef to a key in a Secret resource containing password for the user.'),
      }, 'UserPass authenticates with Vault by passing username/password pair')),
      gcp: named('VaultGCPAuth', obj({
        path: str('Path where the GCP auth method is enabled in Vault, e.g: "gcp"', { default: 'gcp' }),
        'role!': str('Vault Role.'),
        projectID: str('Project ID of the Google Cloud Platform project'),
        location: str('Location optionally defines a location/region for the secret'),
        secretRef: opaque('Specify credentials in a Secret object (not modelled by Tessera yet; kept as written).'),
        workloadIdentity: opaque('Specify a service account with Workload Identity (not modelled by Tessera yet; kept as written).'),
        serviceAccountRef: serviceAccountSelector('ServiceAccountRef to a service account for impersonation'),
      }, 'Gcp authenticates with Vault using Google Cloud Platform authentication method')),
    }, 'Auth configures how secret-manager authenticates with the Vault server.')),
    'server!': str('Server is the connection address for the Vault server, e.g: "https://vault.example.com:8200".'),
    path: str('Path is the mount path of the Vault KV backend endpoint, e.g: "secret".'),
    version: enumOf(['v1', 'v2'], 'Version is the Vault KV secret engine version. This can be either "v1" or "v2". Version defaults to "v2".', { default: 'v2' }),
    namespace: str('Name of the vault namespace (Vault Enterprise).'),
    caBundle: str('PEM encoded CA bundle used to validate Vault server certificate.', { format: 'byte' }),
    tls: named('VaultClientTLS', obj({
      certSecretRef: secretKeySelector("CertSecretRef is a certificate added to the transport layer. Defaults to key 'tls.crt'."),
      keySecretRef: secretKeySelector("KeySecretRef to a key in a Secret resource containing client private key. Defaults to key 'tls.key'."),
    }, 'The configuration used for client side related TLS communication, when the Vault server requires mutual authentication.')),
    caProvider: caProvider(),
    readYourWrites: bool('ReadYourWrites ensures isolated read-after-write semantics.'),
    forwardInconsistent: bool('ForwardInconsistent tells Vault to forward read-after-write requests to the Vault leader.'),
    headers: stringMap('Headers to be added in Vault request'),
    checkAndSet: named('VaultCheckAndSet', obj({
      required: bool('Required when true, all write operations must include a check-and-set parameter.'),
    }, 'CheckAndSet defines the Check-And-Set (CAS) settings for PushSecret operations.')),
  }, 'Vault configures this store to sync secrets using the HashiCorp Vault provider.'));
}

function kubernetesProvider(): Schema {
  return named('KubernetesProvider', obj({
    server: named('KubernetesServer', obj({
      url: str('configures the Kubernetes server Address.', { default: 'kubernetes.default' }),
      caBundle: str('CABundle is a base64-encoded CA certificate', { format: 'byte' }),
      caProvider: caProvider(),
    }, 'configures the Kubernetes server Address.')),
    auth: named('KubernetesAuth', obj({
      cert: named('KubernetesCertAuth', obj({
        clientCert: secretKeySelector(),
        clientKey: secretKeySelector(),
      }, 'has both clientCert and clientKey as secretKeySelector')),
      token: named('KubernetesTokenAuth', obj({
        bearerToken: secretKeySelector(),
      }, 'use static token to authenticate with')),
      serviceAccount: serviceAccountSelector('points to a service account that should be used for authentication'),
    }, 'Auth configures how secret-manager authenticates with a Kubernetes instance.', { minProperties: 1, maxProperties: 1 })),
    authRef: secretKeySelector('A reference to a secret that contains the auth information.'),
    remoteNamespace: { ...namespaceName('Remote namespace to fetch the secrets from'), default: 'default' },
  }, 'Kubernetes configures this store to sync secrets using a Kubernetes cluster provider'));
}

function gcpsmProvider(version: ApiVersionName): Schema {
  const workloadIdentity = named('GCPWorkloadIdentity', obj({
    'serviceAccountRef!': serviceAccountSelector(),
    clusterLocation: str('ClusterLocation is the location of the cluster. If not specified, it fetches information from the metadata server'),
    clusterName: str('ClusterName is the name of the cluster. If not specified, it fetches information from the metadata server'),
    clusterProjectID: str('ClusterProjectID is the project ID of the cluster. If not specified, it fetches information from the metadata server'),
  }));
  // workloadIdentityFederation and secretVersionSelectionPolicy exist in ESO's v1 only.
  const federation = named('GCPWorkloadIdentityFederation', obj({
    credConfig: named('ConfigMapReference', obj({
      'name!': subdomainName('name of the configmap.'),
      namespace: namespaceName('namespace in which the configmap exists. If empty, configmap will looked up in local namespace.'),
      'key!': secretKeyName('key name holding the external account credential config.'),
    }, 'credConfig holds the configmap reference containing the GCP external account credential configuration in JSON format and the key name containing the json data.')),
    serviceAccountRef: serviceAccountSelector('serviceAccountRef is the reference to the kubernetes ServiceAccount to be used for obtaining the tokens, when Kubernetes is configured as provider in workload identity pool.'),
    awsSecurityCredentials: named('AwsCredentialsConfig', obj({
      'region!': str('region is for configuring the AWS region to be used.', { minLength: 1, maxLength: 50, pattern: '^[a-z0-9-]+$' }),
      'awsCredentialsSecretRef!': named('SecretReference', obj({
        'name!': subdomainName('name of the secret.'),
        namespace: namespaceName('namespace in which the secret exists. If empty, secret will looked up in local namespace.'),
      }, 'awsCredentialsSecretRef is the reference to the secret which holds the AWS credentials.')),
    }, 'awsSecurityCredentials is for configuring AWS region and credentials to use for obtaining the access token, when using the AWS metadata server is not an option.')),
    audience: str('audience is the Secure Token Service (STS) audience which contains the resource name for the workload identity pool and the provider identifier in that pool.'),
    externalTokenEndpoint: str('externalTokenEndpoint is the endpoint explicitly set up to provide tokens, which will be matched against the credential_source.url in the provided credConfig.'),
    gcpServiceAccountEmail: str('GCPServiceAccountEmail is the email of the Google Cloud service account to impersonate after Workload Identity Federation.', { minLength: 1, pattern: '^.*@.*\\.iam\\.gserviceaccount\\.com$' }),
  }, 'workloadIdentityFederation holds the configurations required for generating federated access tokens.'));
  return named('GCPSMProvider', obj({
    auth: named('GCPSMAuth', obj({
      secretRef: named('GCPSMAuthSecretRef', obj({
        secretAccessKeySecretRef: secretKeySelector('The SecretAccessKey is used for authentication'),
      })),
      workloadIdentity,
      ...(version === 'v1' ? { workloadIdentityFederation: federation } : {}),
    }, 'Auth defines the information necessary to authenticate against GCP')),
    projectID: str('ProjectID project where secret is located'),
    location: str('Location optionally defines a location for a secret'),
    ...(version === 'v1'
      ? { secretVersionSelectionPolicy: enumOf(['LatestOrFail', 'LatestOrFetch'], 'SecretVersionSelectionPolicy specifies how the provider selects a secret version when "latest" is disabled or destroyed.', { default: 'LatestOrFail' }) }
      : {}),
  }, 'GCPSM configures this store to sync secrets using Google Cloud Platform Secret Manager provider'));
}

function fakeProvider(version: ApiVersionName): Schema {
  const item = version === 'v1'
    ? obj({ 'key!': str(), 'value!': str(), version: str() })
    : obj({ 'key!': str(), value: str(), valueMap: stringMap('Deprecated: removed in v1.'), version: str() });
  return named('FakeProvider', obj({
    'data!': arr(named('FakeProviderData', item)),
    ...(version === 'v1' ? { validationResult: int('Forces the store validation result (0 Ready, 1 Unknown, 2 Error).') } : {}),
  }, 'Fake configures a store with static key/value pairs'));
}

/** Provider keys ESO knows; Tessera models some and keeps the others as written. */
export const MODELLED_PROVIDERS = ['aws', 'vault', 'kubernetes', 'fake', 'azurekv', 'gcpsm'] as const;
export const OPAQUE_PROVIDERS = [
  'akeyless', 'alibaba', 'barbican', 'beyondtrust', 'beyondtrustworkloadcredentials',
  'bitwardensecretsmanager', 'chef', 'cloudrusm', 'conjur', 'delinea', 'device42', 'doppler', 'dvls',
  'fortanix', 'github', 'gitlab', 'ibm', 'infisical', 'keepersecurity', 'nebiusmysterybox',
  'ngrok', 'onboardbase', 'onepassword', 'onepasswordSDK', 'oracle', 'ovh', 'passbolt', 'passworddepot',
  'previder', 'pulumi', 'scaleway', 'secretserver', 'senhasegura', 'volcengine', 'webhook',
  'yandexcertificatemanager', 'yandexlockbox',
] as const;

function storeProvider(version: ApiVersionName): Schema {
  const props: Record<string, Schema> = {
    aws: awsProvider(),
    vault: vaultProvider(),
    kubernetes: kubernetesProvider(),
    fake: fakeProvider(version),
    azurekv: azureKVProvider(version),
    gcpsm: gcpsmProvider(version),
  };
  for (const name of OPAQUE_PROVIDERS) {
    props[name] = opaque(`Configuration of the ${name} provider. Tessera keeps it as written; it is not validated yet.`);
  }
  // Unknown keys are kept too, so manifests for providers newer than this schema still apply.
  return named('SecretStoreProvider', obj(props, 'Used to configure the provider. Only one provider may be set',
    { minProperties: 1, maxProperties: 1, 'x-kubernetes-preserve-unknown-fields': true }));
}

// ---------------------------------------------------------------------------------------------
// SecretStore / ClusterSecretStore
// ---------------------------------------------------------------------------------------------

export function statusCondition(name: string, typeEnum?: string[]): Schema {
  return named(name, obj({
    'type!': typeEnum ? enumOf(typeEnum) : str(),
    'status!': str(),
    reason: str(),
    message: str(),
    lastTransitionTime: str(undefined, { format: 'date-time' }),
  }));
}

function secretStoreSpec(version: ApiVersionName): Schema {
  return named('SecretStoreSpec', obj({
    controller: str('Used to select the correct ESO controller (think: ingress.ingressClassName). The controller is instantiated with a specific controller name and filters stores based on this property'),
    'provider!': storeProvider(version),
    retrySettings: named('SecretStoreRetrySettings', obj({
      maxRetries: int(undefined, { format: 'int32' }),
      retryInterval: str(),
    }, 'Used to configure HTTP retries on failures.')),
    // v1 is int-or-string as in ESO 2.9 (seconds, or a Go duration string); v1beta1 stays an
    // integer of seconds, as ESO's v1beta1 CRD has it.
    refreshInterval: version === 'v1'
      ? intOrString('Used to configure store refresh interval. Accepts either an integer number of seconds (legacy) or a Go duration string such as "1h" or "5m". Empty or 0 will default to the controller config.',
        { minimum: 0, pattern: DURATION_PATTERN, maxLength: 64 })
      : int('Used to configure store refresh interval in seconds. Empty or 0 will default to the controller config.'),
    // ESO's SecretStore and ClusterSecretStore share one spec type, so both accept conditions;
    // only a ClusterSecretStore evaluates them.
    conditions: arr(named('ClusterSecretStoreCondition', obj({
      namespaceSelector: labelSelector('Choose namespace using a labelSelector'),
      namespaces: arr(str(undefined, { minLength: 1, maxLength: 63, pattern: DNS1123_LABEL }), 'Choose namespaces by name'),
      namespaceRegexes: arr(str(), 'Choose namespaces by using regex matching'),
    }, 'ClusterSecretStoreCondition describes a condition by which to choose namespaces to process ExternalSecrets in for a ClusterSecretStore instance.')),
    'Used to constrain a ClusterSecretStore to specific namespaces. Relevant only to ClusterSecretStore.'),
  }, 'SecretStoreSpec defines the desired state of SecretStore.'));
}

function secretStoreStatus(): Schema {
  return named('SecretStoreStatus', obj({
    conditions: arr(statusCondition('SecretStoreStatusCondition')),
    capabilities: str('SecretStoreCapabilities defines the possible operations a SecretStore can do.'),
  }, 'SecretStoreStatus defines the observed state of the SecretStore.'));
}

// ---------------------------------------------------------------------------------------------
// ExternalSecret
// ---------------------------------------------------------------------------------------------

function secretStoreRef(): Schema {
  return named('SecretStoreRef', obj({
    name: subdomainName('Name of the SecretStore resource'),
    kind: enumOf(['SecretStore', 'ClusterSecretStore'], 'Kind of the SecretStore resource (SecretStore or ClusterSecretStore). Defaults to `SecretStore`'),
  }, 'SecretStoreRef defines which SecretStore to fetch the ExternalSecret data.'));
}

const GENERATOR_KINDS_V1BETA1 = [
  'ACRAccessToken', 'ClusterGenerator', 'ECRAuthorizationToken', 'Fake', 'GCRAccessToken', 'GithubAccessToken',
  'QuayAccessToken', 'Password', 'SSHKey', 'STSSessionToken', 'UUID', 'VaultDynamicSecret', 'Webhook', 'Grafana',
];
/** ESO 2.9's v1 list, in its order. */
const GENERATOR_KINDS_V1 = [
  'ACRAccessToken', 'BeyondtrustWorkloadCredentialsDynamicSecret', 'ClusterGenerator', 'CloudsmithAccessToken',
  'ECRAuthorizationToken', 'Fake', 'GCRAccessToken', 'GithubAccessToken', 'GitlabDeployToken', 'QuayAccessToken',
  'Password', 'SSHKey', 'STSSessionToken', 'UUID', 'VaultDynamicSecret', 'Webhook', 'Grafana', 'MFA',
];

export function generatorRef(version: ApiVersionName): Schema {
  return named('GeneratorRef', obj({
    apiVersion: str('Specify the apiVersion of the generator resource', { default: 'generators.external-secrets.io/v1alpha1' }),
    'kind!': enumOf(version === 'v1' ? GENERATOR_KINDS_V1 : GENERATOR_KINDS_V1BETA1, 'Specify the Kind of the generator resource'),
    'name!': subdomainName('Specify the name of the generator resource'),
  }, 'GeneratorRef points to a generator custom resource.'));
}

/**
 * ESO 2.9's v1 CRD declares no defaults on remoteRef and find (the controller treats an absent
 * strategy as its default), so a stored v1 object carries only what its author wrote; v1beta1
 * keeps the defaults ESO's v1beta1 CRD still has. The sync core reads an absent strategy as the
 * default either way.
 */
const withDefault = (version: ApiVersionName, value: string): { default?: string } => (version === 'v1' ? {} : { default: value });

/** v1 only: what the controller does with a fetched value that holds a NUL byte. */
function nullBytePolicy(what: string): Record<string, Schema> {
  return { nullBytePolicy: enumOf(['Ignore', 'Fail'], `Controls how ESO handles fetched secret data containing NUL bytes for this ${what}.`) };
}

function remoteRef(version: ApiVersionName, description: string): Schema {
  return named('ExternalSecretDataRemoteRef', obj({
    'key!': str('Key is the key used in the Provider, mandatory'),
    metadataPolicy: enumOf(['None', 'Fetch'], 'Policy for fetching tags/labels from provider secrets, possible options are Fetch, None. Defaults to None', withDefault(version, 'None')),
    property: str('Used to select a specific property of the Provider value (if a map), if supported'),
    version: str('Used to select a specific version of the Provider value, if supported'),
    conversionStrategy: enumOf(['Default', 'Unicode'], 'Used to define a conversion Strategy. Defaults to Default when omitted.', withDefault(version, 'Default')),
    decodingStrategy: enumOf(['Auto', 'Base64', 'Base64URL', 'None'], 'Used to define a decoding Strategy. Defaults to None when omitted.', withDefault(version, 'None')),
    ...(version === 'v1' ? nullBytePolicy('source') : {}),
  }, description));
}

function externalSecretData(version: ApiVersionName): Schema {
  return named('ExternalSecretData', obj({
    'secretKey!': secretKeyName('The key in the Kubernetes Secret to store the value.'),
    'remoteRef!': remoteRef(version, 'RemoteRef points to the remote secret and defines which secret (version/property/..) to fetch.'),
    sourceRef: named('StoreSourceRef', obj({
      storeRef: secretStoreRef(),
      generatorRef: generatorRef(version),
    }, 'SourceRef allows you to override the source from which the value will be pulled.', { minProperties: 1, maxProperties: 1 })),
  }, 'ExternalSecretData defines the connection between the Kubernetes Secret key (spec.data.<key>) and the Provider data.'));
}

/** rewrite[].regexp, shared with PushSecret's dataTo[].rewrite. */
export function rewriteRegexp(): Schema {
  return named('ExternalSecretRewriteRegexp', obj({
    'source!': str('Used to define the regular expression of a re.Compiler.'),
    'target!': str('Used to define the target pattern of a ReplaceAll operation.'),
  }, 'Used to rewrite with regular expressions. The resulting key will be the output of a regexp.ReplaceAll operation.'));
}

/** rewrite[].transform, shared with PushSecret's dataTo[].rewrite. */
export function rewriteTransform(): Schema {
  return named('ExternalSecretRewriteTransform', obj({
    'template!': str('Used to define the template to apply on the secret name. `.value ` will specify the secret name in the template.'),
  }, 'Used to apply string transformation on the secrets. The resulting key will be the output of the template applied by the operation.'));
}

function rewrite(version: ApiVersionName): Schema {
  const props: Record<string, Schema> = {};
  if (version === 'v1') {
    props['merge'] = named('ExternalSecretRewriteMerge', obj({
      into: str('Used to define the target key of the merge operation. Required if strategy is JSON. Ignored otherwise.', { default: '' }),
      priority: arr(str(), 'Used to define key priority in conflict resolution.'),
      priorityPolicy: enumOf(['IgnoreNotFound', 'Strict'], 'Used to define the policy when a key in the priority list does not exist in the input.', { default: 'Strict' }),
      conflictPolicy: enumOf(['Ignore', 'Error'], 'Used to define the policy to use in conflict resolution.', { default: 'Error' }),
      strategy: enumOf(['Extract', 'JSON'], 'Used to define the strategy to use in the merge operation.', { default: 'Extract' }),
    }, 'Used to merge key/values in one single Secret. The resulting key will contain all values from the specified secrets'));
  }
  props['regexp'] = rewriteRegexp();
  props['transform'] = rewriteTransform();
  return named('ExternalSecretRewrite', obj(props, undefined, { minProperties: 1, maxProperties: 1 }));
}

function externalSecretDataFrom(version: ApiVersionName): Schema {
  return named('ExternalSecretDataFromRemoteRef', obj({
    extract: remoteRef(version, 'Used to extract multiple key/value pairs from one secret. Note: Extract does not support sourceRef.Generator or sourceRef.GeneratorRef.'),
    find: named('ExternalSecretFind', obj({
      path: str('A root path to start the find operations.'),
      name: named('FindName', obj({ regexp: str('Finds secrets base') }, 'Finds secrets based on the name.')),
      tags: stringMap('Find secrets based on tags.'),
      conversionStrategy: enumOf(['Default', 'Unicode'], 'Used to define a conversion Strategy. Defaults to Default when omitted.', withDefault(version, 'Default')),
      decodingStrategy: enumOf(['Auto', 'Base64', 'Base64URL', 'None'], 'Used to define a decoding Strategy. Defaults to None when omitted.', withDefault(version, 'None')),
      ...(version === 'v1' ? nullBytePolicy('find source') : {}),
    }, 'Used to find secrets based on tags or regular expressions. Note: Find does not support sourceRef.Generator or sourceRef.GeneratorRef.')),
    rewrite: arr(rewrite(version), 'Used to rewrite secret Keys after getting them from the secret Provider. Multiple Rewrite operations can be provided. They are applied in a layered order (first to last)'),
    sourceRef: named('StoreGeneratorSourceRef', obj({
      storeRef: secretStoreRef(),
      generatorRef: generatorRef(version),
    }, 'SourceRef points to a store or generator which contains secret values ready to use.', { minProperties: 1, maxProperties: 1 })),
  }, undefined, {
    'x-kubernetes-validations': [
      cel({
        rule: '(has(self.extract) ? 1 : 0) + (has(self.find) ? 1 : 0) + ((has(self.sourceRef) && has(self.sourceRef.generatorRef)) ? 1 : 0) <= 1',
        message: 'extract, find, or generatorRef cannot be set at the same time',
      }, (self) => [self.extract !== undefined, self.find !== undefined, self.sourceRef?.generatorRef !== undefined].filter(Boolean).length <= 1),
      cel({
        rule: 'has(self.extract) || has(self.find) || has(self.sourceRef)',
        message: 'either extract, find, or sourceRef must be set to dataFrom',
      }, (self) => self.extract !== undefined || self.find !== undefined || self.sourceRef !== undefined),
    ],
  }));
}

export function template(version: ApiVersionName): Schema {
  const templateRef = () => named('TemplateRef', obj({
    'name!': subdomainName('The name of the ConfigMap/Secret resource'),
    'items!': arr(named('TemplateRefItem', obj({
      'key!': secretKeyName('A key in the ConfigMap/Secret'),
      templateAs: enumOf(['Values', 'KeysAndValues'], undefined, { default: 'Values' }),
    })), 'A list of keys in the ConfigMap/Secret to use as templates for Secret data'),
  }));
  const metadata: Record<string, Schema> = {
    annotations: stringMap(),
    labels: stringMap(),
  };
  if (version === 'v1') metadata['finalizers'] = arr(str());
  return named('ExternalSecretTemplate', obj({
    type: str('The type of the Secret, e.g. kubernetes.io/dockerconfigjson'),
    engineVersion: enumOf(['v2'], 'EngineVersion specifies the template engine version that should be used to compile/execute the template specified in .data and .templateFrom[].', { default: 'v2' }),
    metadata: named('ExternalSecretTemplateMetadata', obj(metadata, 'ExternalSecretTemplateMetadata defines metadata fields for the Secret blueprint.')),
    mergePolicy: enumOf(['Replace', 'Merge'], undefined, { default: 'Replace' }),
    data: stringMap(),
    templateFrom: arr(named('TemplateFrom', obj({
      configMap: templateRef(),
      secret: templateRef(),
      // v1 takes the target in any case ("data", "DATA", ...) as ESO 2.9 does; the sync core
      // normalises it. A pattern rather than a CEL rule: it costs nothing in the apiserver's CEL
      // budget, which an unbounded string in an unbounded list would exceed.
      target: version === 'v1'
        ? str('Target specifies where to place the template result: Data, Annotations or Labels, in any case (empty means Data). For a generic target (spec.target.manifest) also a path into the object such as "spec.database" or "spec.rules[0].from"; a Secret or ConfigMap target refuses paths.',
          { default: 'Data', pattern: TEMPLATE_TARGET_ANY_CASE, maxLength: MAX_TEMPLATE_TARGET_LENGTH })
        : enumOf(['Data', 'Annotations', 'Labels'], undefined, { default: 'Data' }),
      literal: str(),
      ...(version === 'v1'
        ? { valuesDecodingStrategy: enumOf(['Auto', 'Base64', 'Base64URL', 'None'], 'Used to define a decoding Strategy for the rendered template values. Defaults to None when omitted.') }
        : {}),
    }))),
  }, 'Template defines a blueprint for the created Secret resource.'));
}

function externalSecretTarget(version: ApiVersionName): Schema {
  return named('ExternalSecretTarget', obj({
    name: subdomainName('The name of the Secret resource to be managed. Defaults to the .metadata.name of the ExternalSecret resource'),
    creationPolicy: enumOf(version === 'v1' ? ['Owner', 'Orphan', 'Merge', 'None', 'CreateOrMerge'] : ['Owner', 'Orphan', 'Merge', 'None'],
      'CreationPolicy defines rules on how to create the resulting Secret. Defaults to "Owner"', { default: 'Owner' }),
    deletionPolicy: enumOf(['Delete', 'Merge', 'Retain'], 'DeletionPolicy defines rules on how to delete the resulting Secret. Defaults to "Retain"', { default: 'Retain' }),
    template: template(version),
    // ESO 2.9's generic targets (v1 only): a ConfigMap instead of a Secret, behind
    // --unsafe-allow-generic-targets as in ESO.
    ...(version === 'v1'
      ? {
        manifest: named('ManifestReference', obj({
          'apiVersion!': str('APIVersion of the target resource (e.g., "v1" for ConfigMap)', { minLength: 1, maxLength: 253 }),
          'kind!': str('Kind of the target resource (e.g., "ConfigMap")', { minLength: 1, maxLength: 63 }),
        }, 'Manifest defines a custom Kubernetes resource to create instead of a Secret (a ConfigMap in this build). Needs --unsafe-allow-generic-targets.')),
      }
      : {}),
    immutable: bool('Immutable defines if the final secret will be immutable'),
  }, 'ExternalSecretTarget defines the Kubernetes Secret to be created. There can be only one target per ExternalSecret.', {
    default: { creationPolicy: 'Owner', deletionPolicy: 'Retain' },
    'x-kubernetes-validations': [
      cel({
        rule: "!(has(self.deletionPolicy) && self.deletionPolicy == 'Delete' && has(self.creationPolicy) && (self.creationPolicy == 'Merge' || self.creationPolicy == 'None' || self.creationPolicy == 'CreateOrMerge'))",
        message: "deletionPolicy=Delete must not be used when the controller doesn't own the secret. Please set creationPolicy=Owner",
        fieldPath: '.deletionPolicy',
      }, (self) => !(self.deletionPolicy === 'Delete' && (self.creationPolicy === 'Merge' || self.creationPolicy === 'None' || self.creationPolicy === 'CreateOrMerge'))),
      cel({
        rule: "!(has(self.deletionPolicy) && self.deletionPolicy == 'Merge' && has(self.creationPolicy) && self.creationPolicy == 'None')",
        message: 'deletionPolicy=Merge must not be used with creationPolicy=None. There is no Secret to merge with',
        fieldPath: '.deletionPolicy',
      }, (self) => !(self.deletionPolicy === 'Merge' && self.creationPolicy === 'None')),
    ],
  }));
}

function syncWindows(): Schema {
  return named('ExternalSecretSyncWindows', obj({
    'kind!': enumOf(['allow', 'deny'], 'Kind applies to every window in the list. "allow": periodic syncs only while at least one window is active. "deny": no periodic sync while any window is active.'),
    'windows!': arr(named('ExternalSecretSyncWindowEntry', obj({
      'schedule!': str('Schedule is a standard 5-field cron expression evaluated in UTC, or a named shorthand such as @daily or @every 1h. It marks the start time of each window occurrence.',
        { minLength: 1, maxLength: MAX_SYNC_WINDOW_SCHEDULE_LENGTH, pattern: SYNC_WINDOW_SCHEDULE_PATTERN }),
      'duration!': str('Duration specifies how long the window stays open after each Schedule firing. Example: "8h".', { pattern: DURATION_PATTERN, maxLength: 64 }),
    }, 'A single cron-schedule + duration pair within a SyncWindows block.')), 'Windows is the list of schedule+duration pairs.', { minItems: 1, maxItems: MAX_SYNC_WINDOWS }),
  }, 'SyncWindows optionally restricts when periodic refreshes may occur. Evaluated in UTC, only for the Periodic refresh policy (or when refreshPolicy is unset).'));
}

export function externalSecretSpec(version: ApiVersionName): Schema {
  return named('ExternalSecretSpec', obj({
    secretStoreRef: secretStoreRef(),
    target: externalSecretTarget(version),
    refreshPolicy: enumOf(['CreatedOnce', 'Periodic', 'OnChange'], 'RefreshPolicy determines how the ExternalSecret should be refreshed: CreatedOnce, Periodic (every refreshInterval; never if 0) or OnChange (only when the ExternalSecret changes).'),
    refreshInterval: str('RefreshInterval is the amount of time before the values are read again from the SecretStore provider, specified as Golang Duration strings. Valid time units are "ns", "us" (or "µs"), "ms", "s", "m", "h". Example values: "1h", "2h30m", "10s". May be set to zero to fetch and create it once. Defaults to 1h.',
      { default: '1h0m0s', pattern: DURATION_PATTERN, maxLength: 64 }),
    ...(version === 'v1' ? { syncWindows: syncWindows() } : {}),
    data: arr(externalSecretData(version), 'Data defines the connection between the Kubernetes Secret keys and the Provider data', { maxItems: MAX_DATA_ITEMS }),
    dataFrom: arr(externalSecretDataFrom(version), 'DataFrom is used to fetch all properties from a specific Provider data. If multiple entries are specified, the Secret keys are merged in the specified order'),
  }, 'ExternalSecretSpec defines the desired state of ExternalSecret.', {
    'x-kubernetes-validations': [
      cel({
        rule: '(has(self.data) && size(self.data) > 0) || (has(self.dataFrom) && size(self.dataFrom) > 0)',
        message: 'either data or dataFrom should be specified',
      }, (self) => (Array.isArray(self.data) && self.data.length > 0) || (Array.isArray(self.dataFrom) && self.dataFrom.length > 0)),
      cel({
        rule: "!has(self.data) || (has(self.target) && has(self.target.deletionPolicy) && self.target.deletionPolicy != 'Retain') || self.data.all(d, self.data.exists_one(e, e.secretKey == d.secretKey))",
        message: 'duplicate secretKey found in data (not allowed with deletionPolicy=Retain)',
        fieldPath: '.data',
      }, (self) => {
        if (!Array.isArray(self.data)) return true;
        const policy = self.target?.deletionPolicy;
        if (policy !== undefined && policy !== 'Retain') return true;
        const keys = self.data.map((d: { secretKey?: unknown }) => d?.secretKey);
        return new Set(keys).size === keys.length;
      }),
    ],
  }));
}

function externalSecretStatus(version: ApiVersionName): Schema {
  return named('ExternalSecretStatus', obj({
    refreshTime: str('refreshTime is the time and date the external secret was fetched and the target secret updated', { format: 'date-time', nullable: true }),
    syncedResourceVersion: str('SyncedResourceVersion keeps track of the last synced version'),
    conditions: arr(statusCondition('ExternalSecretStatusCondition', version === 'v1' ? ['Ready', 'Deleted'] : undefined)),
    binding: named('LocalObjectReference', obj({
      name: str('Name of the referent.', { default: '' }),
    }, 'Binding represents a servicebinding.io Provisioned Service reference to the secret', { 'x-kubernetes-map-type': 'atomic' })),
  }));
}

// ---------------------------------------------------------------------------------------------
// Roots
// ---------------------------------------------------------------------------------------------

export function root(typeName: string, description: string, spec: Schema, status: Schema): Schema {
  // spec is required: ESO's webhooks refuse an object without one (no data/dataFrom, no provider),
  // so requiring it here refuses the same objects without a webhook.
  return named(typeName, obj({
    apiVersion: str('APIVersion defines the versioned schema of this representation of an object.'),
    kind: str('Kind is a string value representing the REST resource this object represents.'),
    metadata: { type: 'object' },
    'spec!': spec,
    status,
  }, description));
}

/** The openAPIV3Schema of one kind at one version. A fresh object on every call. */
export function schemaFor(kind: ApiKind, version: ApiVersionName): Schema {
  // Every generator kind has one schema source of its own (v1alpha1 only).
  if (isGeneratorKind(kind)) return generatorSchemaFor(kind);
  switch (kind) {
    case 'ExternalSecret':
      return root('ExternalSecret', 'ExternalSecret is the Schema for the external-secrets API.',
        externalSecretSpec(version), externalSecretStatus(version));
    case 'SecretStore':
      return root('SecretStore', 'SecretStore represents a secure external location for storing secrets, which can be referenced as part of `storeRef` fields.',
        secretStoreSpec(version), secretStoreStatus());
    case 'ClusterSecretStore':
      return root('ClusterSecretStore', 'ClusterSecretStore represents a secure external location for storing secrets, which can be referenced as part of `storeRef` fields.',
        secretStoreSpec(version), secretStoreStatus());
    case 'ClusterExternalSecret':
      return clusterExternalSecretSchema(version);
    case 'PushSecret':
      return pushSecretSchema();
    case 'ClusterPushSecret':
      return clusterPushSecretSchema();
  }
}
