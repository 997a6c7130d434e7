// Names that are API: they must match External Secrets Operator exactly, because manifests,
// RBAC rules, label selectors and existing Secrets written by ESO carry them.

export const GROUP = 'external-secrets.io';
/** kubectl get external-secrets lists every kind of the group. */
export const CATEGORY = 'external-secrets';
/** The version objects are stored in. */
export const STORAGE_VERSION = 'v1';
/** Every served version, newest first. */
export const SERVED_VERSIONS = ['v1', 'v1beta1'] as const;
/** Every version any kind of the group serves (PushSecret and ClusterPushSecret are v1alpha1 only). */
export type ApiVersionName = (typeof SERVED_VERSIONS)[number] | 'v1alpha1';

export const API_VERSION_V1 = `${GROUP}/v1`;
export const API_VERSION_V1BETA1 = `${GROUP}/v1beta1`;

export const KIND_EXTERNAL_SECRET = 'ExternalSecret';
export const KIND_SECRET_STORE = 'SecretStore';
export const KIND_CLUSTER_SECRET_STORE = 'ClusterSecretStore';
export const KIND_CLUSTER_EXTERNAL_SECRET = 'ClusterExternalSecret';
export const KIND_PUSH_SECRET = 'PushSecret';
export const KIND_CLUSTER_PUSH_SECRET = 'ClusterPushSecret';
export type ApiKind =
  | typeof KIND_EXTERNAL_SECRET | typeof KIND_SECRET_STORE | typeof KIND_CLUSTER_SECRET_STORE
  | typeof KIND_CLUSTER_EXTERNAL_SECRET | typeof KIND_PUSH_SECRET | typeof KIND_CLUSTER_PUSH_SECRET
  | GeneratorKind;

/** The generators.external-secrets.io group of ESO 2.9: every kind is served at v1alpha1 only. */
export const GENERATORS_GROUP = 'generators.external-secrets.io';
export const GENERATORS_VERSION = 'v1alpha1';
export const GENERATORS_API_VERSION = `${GENERATORS_GROUP}/${GENERATORS_VERSION}`;
/** The category every generator CRD carries besides CATEGORY, as in ESO (`kubectl get external-secrets-generators`). */
export const GENERATORS_CATEGORY = 'external-secrets-generators';
/** The namespaced generator kinds of ESO 2.9, in its ClusterGenerator enum order. */
export const GENERATOR_KINDS = [
  'ACRAccessToken', 'BeyondtrustWorkloadCredentialsDynamicSecret', 'CloudsmithAccessToken', 'ECRAuthorizationToken',
  'Fake', 'GCRAccessToken', 'GithubAccessToken', 'GitlabDeployToken', 'QuayAccessToken', 'Password', 'SSHKey',
  'STSSessionToken', 'UUID', 'VaultDynamicSecret', 'Webhook', 'Grafana', 'MFA',
] as const;
export type NamespacedGeneratorKind = (typeof GENERATOR_KINDS)[number];
export type GeneratorKind = NamespacedGeneratorKind | 'ClusterGenerator' | 'GeneratorState';
export const KINDS: readonly ApiKind[] = [KIND_EXTERNAL_SECRET, KIND_SECRET_STORE, KIND_CLUSTER_SECRET_STORE,
  KIND_CLUSTER_EXTERNAL_SECRET, KIND_PUSH_SECRET, KIND_CLUSTER_PUSH_SECRET,
  ...GENERATOR_KINDS, 'ClusterGenerator', 'GeneratorState'];

export interface ResourceNames {
  kind: ApiKind;
  listKind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  scope: 'Namespaced' | 'Cluster';
  /** API group; GROUP when absent. */
  group?: string;
  /** Served versions, newest first; SERVED_VERSIONS when absent. */
  versions?: readonly ApiVersionName[];
  /** The version objects are stored in; STORAGE_VERSION when absent. */
  storageVersion?: ApiVersionName;
  /** CRD categories; [CATEGORY] when absent. */
  categories?: readonly string[];
}

/** RESOURCES entry of a generators.external-secrets.io kind (plural: lower-case kind + "s", as ESO's). */
function generatorResource(kind: GeneratorKind, scope: 'Namespaced' | 'Cluster' = 'Namespaced', shortNames: string[] = []): ResourceNames {
  const singular = kind.toLowerCase();
  return {
    kind, listKind: `${kind}List`, plural: `${singular}s`, singular, shortNames, scope,
    group: GENERATORS_GROUP, versions: [GENERATORS_VERSION], storageVersion: GENERATORS_VERSION,
    categories: [CATEGORY, GENERATORS_CATEGORY],
  };
}

export const RESOURCES: Readonly<Record<ApiKind, ResourceNames>> = {
  ExternalSecret: {
    kind: 'ExternalSecret',
    listKind: 'ExternalSecretList',
    plural: 'externalsecrets',
    singular: 'externalsecret',
    shortNames: ['es'],
    scope: 'Namespaced',
  },
  SecretStore: {
    kind: 'SecretStore',
    listKind: 'SecretStoreList',
    plural: 'secretstores',
    singular: 'secretstore',
    shortNames: ['ss'],
    scope: 'Namespaced',
  },
  ClusterSecretStore: {
    kind: 'ClusterSecretStore',
    listKind: 'ClusterSecretStoreList',
    plural: 'clustersecretstores',
    singular: 'clustersecretstore',
    shortNames: ['css'],
    scope: 'Cluster',
  },
  ClusterExternalSecret: {
    kind: 'ClusterExternalSecret',
    listKind: 'ClusterExternalSecretList',
    plural: 'clusterexternalsecrets',
    singular: 'clusterexternalsecret',
    shortNames: ['ces'],
    scope: 'Cluster',
  },
  // ESO 2.9 serves both push kinds at v1alpha1 only.
  PushSecret: {
    kind: 'PushSecret',
    listKind: 'PushSecretList',
    plural: 'pushsecrets',
    singular: 'pushsecret',
    shortNames: ['ps'],
    scope: 'Namespaced',
    versions: ['v1alpha1'],
    storageVersion: 'v1alpha1',
  },
  ClusterPushSecret: {
    kind: 'ClusterPushSecret',
    listKind: 'ClusterPushSecretList',
    plural: 'clusterpushsecrets',
    singular: 'clusterpushsecret',
    shortNames: [],
    scope: 'Cluster',
    versions: ['v1alpha1'],
    storageVersion: 'v1alpha1',
  },
  ...(Object.fromEntries(GENERATOR_KINDS.map((k) => [k, generatorResource(k)])) as Record<NamespacedGeneratorKind, ResourceNames>),
  ClusterGenerator: generatorResource('ClusterGenerator', 'Cluster'),
  GeneratorState: generatorResource('GeneratorState', 'Namespaced', ['gs']),
};

/** The group, served versions and storage version of a kind, with the defaults applied. */
export function groupOf(kind: ApiKind): string {
  return RESOURCES[kind].group ?? GROUP;
}
export function servedVersionsOf(kind: ApiKind): readonly ApiVersionName[] {
  return RESOURCES[kind].versions ?? SERVED_VERSIONS;
}
export function storageVersionOf(kind: ApiKind): ApiVersionName {
  return RESOURCES[kind].storageVersion ?? STORAGE_VERSION;
}

/** Label ESO puts on its CRDs. */
export const LABEL_COMPONENT = 'external-secrets.io/component';

/** Every Secret written for an ExternalSecret carries this label with value "true". */
export const LABEL_MANAGED = 'reconcile.external-secrets.io/managed';
export const LABEL_MANAGED_VALUE = 'true';
/**
 * With creationPolicy=Owner, ESO labels the Secret with a hash of "<namespace>/<name>" of the
 * ExternalSecret (sha3-224, hex), to find Secrets left behind when target.name changes.
 */
export const LABEL_CREATED_BY = 'reconcile.external-secrets.io/created-by';
/** Hash of the Secret content written by the controller; a mismatch means drift. */
export const ANNOTATION_DATA_HASH = 'reconcile.external-secrets.io/data-hash';
/**
 * ESO's documented way to force a refresh is `kubectl annotate es NAME force-sync=$(date +%s)
 * --overwrite`: any change of the ExternalSecret's labels or annotations triggers a sync, and
 * this is the annotation name the docs use.
 */
export const ANNOTATION_FORCE_SYNC = 'force-sync';
/** The field manager and user agent of the controller's API requests (statuses, Events, Leases; Secrets use FIELD_MANAGER_PREFIX). */
export const FIELD_MANAGER = 'tessera';
/** Server-side-apply field manager ESO uses per ExternalSecret; reused so ownership carries over. */
export const FIELD_MANAGER_PREFIX = 'externalsecrets.external-secrets.io/';

/** status.conditions[].type values. */
export const CONDITION_READY = 'Ready';
export const CONDITION_DELETED = 'Deleted';

/**
 * The finalizer ESO (0.20.1 and later) puts on every ExternalSecret it reconciles. An
 * ExternalSecret that carries it cannot go away until a controller removes it: after a migration
 * from ESO, Tessera is that controller, or deletes, Argo CD prunes and namespace deletions hang.
 */
export const FINALIZER_ESO_EXTERNALSECRET = 'externalsecrets.external-secrets.io/externalsecret-cleanup';

/**
 * The finalizer ESO (2.x) puts on every ClusterExternalSecret. Tessera adds none (the
 * ExternalSecrets it creates carry an owner reference, so the garbage collector removes them), but
 * removes ESO's from a deleted ClusterExternalSecret, or the delete would hang after a migration.
 */
export const FINALIZER_ESO_CLUSTEREXTERNALSECRET = 'externalsecrets.external-secrets.io/clusterexternalsecret-cleanup';
/**
 * ESO (2.x) also puts `<prefix><ClusterExternalSecret name>` on every namespace it provisions, and
 * removes it when the ClusterExternalSecret goes or the namespace terminates. After a migration
 * Tessera removes it in the same cases, or namespace deletion hangs.
 */
export const FINALIZER_ESO_CES_NAMESPACE_PREFIX = 'externalsecrets.external-secrets.io/ces-';
/**
 * ESO's finalizer on a PushSecret with deletionPolicy Delete: the remote data it pushed is removed
 * before the PushSecret goes. Same name as ESO's, so PushSecrets migrated from ESO keep working.
 */
export const FINALIZER_PUSHSECRET = 'pushsecret.externalsecrets.io/finalizer';
