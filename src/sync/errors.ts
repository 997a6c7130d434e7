// The catalog of sync outcomes: condition reasons (ESO's names, they are API) and the typed errors
// desiredSecret returns. Messages name ExternalSecret fields, remote keys, properties and Secret
// key names; they never contain a secret value. Documented in docs/errors.md.
import { MAX_JSON_DEPTH } from './json-raw.ts';

/** status.conditions[type=Ready].reason values, as ESO writes them. */
export const ConditionReason = {
  /** Ready=True: the Secret matches the provider data. */
  SecretSynced: 'SecretSynced',
  /** Ready=False: the last sync failed; the message says why. */
  SecretSyncedError: 'SecretSyncedError',
  /** Ready=True: the provider data is gone and deletionPolicy=Delete removed the Secret. */
  SecretDeleted: 'SecretDeleted',
  /** Ready=True: creationPolicy=Merge and the target Secret does not exist (yet); nothing is written. */
  SecretMissing: 'SecretMissing',
  /** The same four for a generic target (spec.target.manifest), as ESO names them. */
  ResourceSynced: 'ResourceSynced',
  ResourceSyncedError: 'ResourceSyncedError',
  ResourceDeleted: 'ResourceDeleted',
  ResourceMissing: 'ResourceMissing',
} as const;
export type ConditionReason = (typeof ConditionReason)[keyof typeof ConditionReason];

/** Event reasons ESO emits on the ExternalSecret. */
export const EventReason = {
  Created: 'Created',
  Updated: 'Updated',
  Deleted: 'Deleted',
  UpdateFailed: 'UpdateFailed',
  /** A remote value is gone and was skipped (deletionPolicy Delete/Merge). */
  MissingProviderSecret: 'MissingProviderSecret',
} as const;
export type EventReason = (typeof EventReason)[keyof typeof EventReason];

/**
 * Ready=True condition messages and Normal event texts, word for word ESO 2.9's
 * (pkg/controllers/externalsecret): dashboards, alerts and scripts written against ESO match on
 * them. They name policies and fields, never a Secret or a value.
 */
export const ReadyMessage = {
  Synced: 'secret synced',
  SyncedRetain: 'secret retained due to DeletionPolicy=Retain',
  Deleted: 'secret deleted due to DeletionPolicy=Delete',
  Missing: 'secret will not be created due to CreationPolicy=Merge',
  ResourceMissing: 'resource will not be created due to CreationPolicy=Merge',
} as const;
/**
 * ESO 2.9's fixed Ready=False messages (pkg/controllers/externalsecret), one per failing step. A
 * Ready=False message starts with the one for the step that failed, so what matches on ESO's
 * message matches on Tessera's; the cause follows it (ESO puts the cause in the event only).
 */
export const FailureSummary = {
  GetSecretData: 'could not get secret data from provider',
  DeleteSecret: 'could not delete secret',
  UpdateSecret: 'could not update secret',
  UpdateImmutable: 'could not update secret, target is immutable',
  IsOwned: 'target is owned by another ExternalSecret',
  InvalidGenericTarget: 'invalid generic target',
  ApplyTemplateToManifest: 'could not apply template to manifest',
} as const;
export type FailureSummary = (typeof FailureSummary)[keyof typeof FailureSummary];

export const EventMessage = {
  Created: 'secret created',
  Updated: 'secret updated',
  Deleted: 'secret deleted due to DeletionPolicy=Delete',
  /** ESO's text; ESO says spec.dataFrom[i] for a spec.data entry too, Tessera names the right field. */
  /** ESO's texts for a generic target: the kind and the name of the object. */
  createdResource: (kind: string, name: string) => `Created ${kind} ${name}`,
  updatedResource: (kind: string, name: string) => `Updated ${kind} ${name}`,
  deletedResource: (kind: string, name: string) => `Deleted ${kind} ${name}`,
  missingProviderSecret: (field: string, key?: string) =>
    key === undefined ? `secret does not exist at provider using ${field}` : `secret does not exist at provider using ${field} (key=${key})`,
} as const;

export const SyncErrorCode = {
  /** remoteRef.property does not exist in the remote value. */
  PropertyNotFound: 'PropertyNotFound',
  /** remoteRef.property is set but the remote value is not JSON. */
  PropertyOnNonJSON: 'PropertyOnNonJSON',
  /** remoteRef.property uses gjson syntax Tessera does not implement (queries, modifiers, pipes). */
  UnsupportedPropertySyntax: 'UnsupportedPropertySyntax',
  /** decodingStrategy Base64/Base64URL and the value is not valid base64. */
  DecodeFailed: 'DecodeFailed',
  /** nullBytePolicy=Fail and a fetched value (after decoding) contains a NUL byte. */
  NullByteInValue: 'NullByteInValue',
  /** A remote JSON value is nested deeper than Go's encoding/json accepts (10000 levels). */
  JSONTooDeep: 'JSONTooDeep',
  /** dataFrom.extract needs a JSON object. */
  ExtractNotJSONObject: 'ExtractNotJSONObject',
  /** A resulting Secret key is not [-._a-zA-Z0-9]+ (or longer than 253). */
  InvalidSecretKey: 'InvalidSecretKey',
  /** conversionStrategy mapped two remote keys to one Secret key. */
  KeyCollision: 'KeyCollision',
  /** rewrite.regexp.source does not compile, or uses RE2 syntax with no JS equivalent. */
  InvalidRewriteRegexp: 'InvalidRewriteRegexp',
  /** rewrite.merge failed (not JSON, conflict, missing priority key, missing `into`). */
  RewriteMergeFailed: 'RewriteMergeFailed',
  /** A template (target.template or rewrite.transform) is used but no engine was supplied. */
  TemplateEngineUnavailable: 'TemplateEngineUnavailable',
  /** The template engine reported an error. */
  TemplateFailed: 'TemplateFailed',
  /** The provider reported NotFound and deletionPolicy=Retain. */
  ProviderSecretNotFound: 'ProviderSecretNotFound',
  /** creationPolicy Owner/Orphan and the target Secret exists without the managed label. */
  SecretNotManaged: 'SecretNotManaged',
  /** The target Secret is controlled by another ExternalSecret (or another controller). */
  SecretOwnedByOther: 'SecretOwnedByOther',
  /** deletionPolicy=Delete would delete a Secret this ExternalSecret does not own. */
  DeleteNotOwned: 'DeleteNotOwned',
  /** The target Secret is immutable and its content would change. */
  ImmutableSecretChanged: 'ImmutableSecretChanged',
  /** target.template.type differs from the existing Secret's type (the type is immutable). */
  SecretTypeChanged: 'SecretTypeChanged',
  /** Two spec.data entries write the same secretKey with deletionPolicy=Retain. */
  DuplicateSecretKey: 'DuplicateSecretKey',
  /**
   * ESO's privileged-template guard: a bootstrap token Secret, or a service-account-token Secret
   * bound to a ServiceAccount by the kubernetes.io/service-account.name annotation.
   */
  PrivilegedSecretType: 'PrivilegedSecretType',
  /** The fetched values do not line up with spec.data / spec.dataFrom (a caller bug). */
  FetchedValuesMismatch: 'FetchedValuesMismatch',
  /** A template, rewrite or key-generation render ran past its time or memory budget. */
  ComputeBudgetExceeded: 'ComputeBudgetExceeded',
  /** The rendered Secret's data is larger than a Secret can hold (1 MiB). */
  SecretTooLarge: 'SecretTooLarge',
  /** A PushSecret's data/dataTo cannot be applied to its source Secret (missing key, duplicate remote key, bad regexp). */
  InvalidPushSecret: 'InvalidPushSecret',
  /** spec.target.manifest names a kind that is never written as a generic target, or one --generic-target-kinds leaves out. */
  UnsupportedTargetKind: 'UnsupportedTargetKind',
  /** spec.target.manifest names a kind the apiserver does not serve (discovery). */
  TargetKindNotFound: 'TargetKindNotFound',
  /** spec.target.manifest names a cluster-scoped kind; generic targets live in the ExternalSecret's namespace. */
  TargetKindClusterScoped: 'TargetKindClusterScoped',
  /** A value for a ConfigMap target is not UTF-8 text (a ConfigMap's data holds text). */
  ConfigMapValueNotText: 'ConfigMapValueNotText',
} as const;

/** What the apiserver accepts in one Secret's data (the sum of the decoded values). */
export const MAX_SECRET_DATA_BYTES = 1024 * 1024;
/** What the apiserver accepts in an object's annotations (labels are far smaller still). */
export const MAX_SECRET_METADATA_BYTES = 256 * 1024;
export type SyncErrorCode = (typeof SyncErrorCode)[keyof typeof SyncErrorCode];

/**
 * A sync failure that is the user's to fix (spec, remote data or cluster state); retrying without a
 * change gives the same answer. The message is safe for status, events and logs.
 */
export class SyncError extends Error {
  readonly code: SyncErrorCode;
  /** The ExternalSecret field at fault, e.g. "spec.data[2].remoteRef.property". */
  readonly field: string | undefined;
  readonly reason = ConditionReason.SecretSyncedError;
  constructor(code: SyncErrorCode, message: string, field?: string) {
    super(message);
    this.name = 'SyncError';
    this.code = code;
    this.field = field;
  }
}

export function isSyncError(err: unknown): err is SyncError {
  return err instanceof SyncError;
}

// Constructors: one place for each message's wording (docs/errors.md mirrors them).
export const syncErrors = {
  /** A PushSecret's data or dataTo does not fit its source Secret; names keys, never values. */
  invalidPush: (field: string, detail: string) =>
    new SyncError(SyncErrorCode.InvalidPushSecret, `${field}: ${detail}`, field),
  propertyNotFound: (field: string, key: string, property: string) =>
    new SyncError(SyncErrorCode.PropertyNotFound, `property ${JSON.stringify(property)} not found in remote key ${JSON.stringify(key)}`, field),
  propertyOnNonJSON: (field: string, key: string, property: string) =>
    new SyncError(SyncErrorCode.PropertyOnNonJSON, `remote key ${JSON.stringify(key)} is not JSON, so property ${JSON.stringify(property)} cannot be read`, field),
  unsupportedPropertySyntax: (field: string, property: string, what: string) =>
    new SyncError(SyncErrorCode.UnsupportedPropertySyntax, `property ${JSON.stringify(property)} uses ${what}, which is not supported`, field),
  decodeFailed: (field: string, strategy: string, key: string) =>
    new SyncError(SyncErrorCode.DecodeFailed, `value of ${key} is not valid ${strategy} (decodingStrategy=${strategy})`, field),
  /** ESO's wording; `key` names a Secret key (or a position, for keys a transform produced). */
  nullByteInValue: (field: string, key: string) =>
    new SyncError(SyncErrorCode.NullByteInValue, `fetched secret value for ${key} contains null bytes; use a text-safe format such as PEM/base64 or leave nullBytePolicy unset for intentional binary data`, field),
  /** Valid JSON, but deeper than Go's encoding/json accepts (ESO fails the same documents). */
  jsonTooDeep: (field: string, key: string) =>
    new SyncError(SyncErrorCode.JSONTooDeep, `remote key ${JSON.stringify(key)} is JSON nested too deeply (limit ${MAX_JSON_DEPTH} levels, as in Go's encoding/json)`, field),
  extractNotObject: (field: string, key: string) =>
    new SyncError(SyncErrorCode.ExtractNotJSONObject, `remote key ${JSON.stringify(key)} is not a JSON object, so it cannot be extracted into keys`, field),
  invalidSecretKey: (field: string, key: string) =>
    new SyncError(SyncErrorCode.InvalidSecretKey, key.length > 253
      ? `secret key ${JSON.stringify(key.slice(0, 253))}… is longer than 253 characters`
      : `secret key ${JSON.stringify(key)} is invalid: only alphanumeric characters, '-', '_' and '.' are allowed; convert it with rewrite or conversionStrategy`, field),
  /** A key a template or a rewrite transform produced: it may be a value, so it is never quoted. */
  invalidRenderedSecretKey: (field: string, position: string) =>
    new SyncError(SyncErrorCode.InvalidSecretKey, `${position} rendered by a template is not a valid secret key: only alphanumeric characters, '-', '_' and '.' are allowed, at most 253 (the key is not shown: it may derive from a secret value)`, field),
  keyCollision: (field: string, key: string) =>
    new SyncError(SyncErrorCode.KeyCollision, `secret name collision during conversion: ${JSON.stringify(key)}`, field),
  invalidRegexp: (field: string, detail: string) =>
    new SyncError(SyncErrorCode.InvalidRewriteRegexp, `invalid rewrite regexp: ${detail}`, field),
  mergeFailed: (field: string, detail: string) =>
    new SyncError(SyncErrorCode.RewriteMergeFailed, `rewrite merge failed: ${detail}`, field),
  templateUnavailable: (field: string) =>
    new SyncError(SyncErrorCode.TemplateEngineUnavailable, 'a template is used but no template engine is available', field),
  templateFailed: (field: string, detail: string) =>
    new SyncError(SyncErrorCode.TemplateFailed, `could not render template: ${detail}`, field),
  providerSecretNotFound: (field: string, key: string | undefined) =>
    new SyncError(SyncErrorCode.ProviderSecretNotFound, key === undefined
      ? `secret does not exist at provider using ${field} (deletionPolicy=Retain)`
      : `secret does not exist at provider using ${field} key=${JSON.stringify(key)} (deletionPolicy=Retain)`, field),
  secretNotManaged: (name: string) =>
    new SyncError(SyncErrorCode.SecretNotManaged, `secret ${JSON.stringify(name)} exists and is not managed by this ExternalSecret; delete it, or use creationPolicy=Merge`, 'spec.target.name'),
  secretOwnedByOther: (name: string, owner: string) =>
    new SyncError(SyncErrorCode.SecretOwnedByOther, `secret ${JSON.stringify(name)} is owned by ${owner}`, 'spec.target.name'),
  deleteNotOwned: (policy: string) =>
    new SyncError(SyncErrorCode.DeleteNotOwned, `invalid creationPolicy=${policy}: deletionPolicy=Delete can only delete a Secret this ExternalSecret owns`, 'spec.target.deletionPolicy'),
  immutableChanged: (name: string) =>
    new SyncError(SyncErrorCode.ImmutableSecretChanged, `secret ${JSON.stringify(name)} is immutable and its content would change; delete it to let it be recreated`, 'spec.target.immutable'),
  typeChanged: (name: string, from: string, to: string) =>
    new SyncError(SyncErrorCode.SecretTypeChanged, `secret ${JSON.stringify(name)} has type ${JSON.stringify(from)} and cannot change to ${JSON.stringify(to)}; delete it to let it be recreated`, 'spec.target.template.type'),
  duplicateSecretKey: (field: string, key: string) =>
    new SyncError(SyncErrorCode.DuplicateSecretKey, `duplicate secretKey found: ${JSON.stringify(key)}`, field),
  /** `message` is ESO's wording (see desired.ts); it names types and annotation keys only. */
  privilegedSecretType: (message: string, field: string) =>
    new SyncError(SyncErrorCode.PrivilegedSecretType, message, field),
  /** `budget` names the budget and its size, e.g. "time limit 2s"; never data. */
  computeBudgetExceeded: (field: string | undefined, budget: string) =>
    new SyncError(SyncErrorCode.ComputeBudgetExceeded, `compute budget exceeded: ${budget}`, field),
  secretTooLarge: (name: string, bytes: number) =>
    new SyncError(SyncErrorCode.SecretTooLarge, `secret ${JSON.stringify(name)} would hold ${bytes} bytes of data, more than a Secret can hold (${MAX_SECRET_DATA_BYTES} bytes)`, 'spec.target'),
  secretMetadataTooLarge: (name: string, chars: number) =>
    new SyncError(SyncErrorCode.SecretTooLarge, `secret ${JSON.stringify(name)} would have ${chars} characters of labels and annotations, more than the apiserver accepts (${MAX_SECRET_METADATA_BYTES})`, 'spec.target.template.metadata'),
  unsupportedTargetKind: (apiVersion: string, kind: string, why: string) =>
    new SyncError(SyncErrorCode.UnsupportedTargetKind, `spec.target.manifest: generic target ${JSON.stringify(apiVersion.slice(0, 253))} ${JSON.stringify(kind.slice(0, 63))} is refused: ${why}`, 'spec.target.manifest'),
  targetKindNotFound: (apiVersion: string, kind: string, what: 'groupVersion' | 'kind') =>
    new SyncError(SyncErrorCode.TargetKindNotFound, what === 'groupVersion'
      ? `spec.target.manifest: the apiserver does not serve apiVersion ${JSON.stringify(apiVersion.slice(0, 253))} (is its CustomResourceDefinition installed?)`
      : `spec.target.manifest: the apiserver serves no kind ${JSON.stringify(kind.slice(0, 63))} in apiVersion ${JSON.stringify(apiVersion.slice(0, 253))} (is its CustomResourceDefinition installed?)`, 'spec.target.manifest'),
  targetKindClusterScoped: (apiVersion: string, kind: string) =>
    new SyncError(SyncErrorCode.TargetKindClusterScoped, `spec.target.manifest: ${JSON.stringify(kind.slice(0, 63))} in apiVersion ${JSON.stringify(apiVersion.slice(0, 253))} is cluster-scoped; a generic target is a namespaced object in the ExternalSecret's namespace`, 'spec.target.manifest'),
  configMapValueNotText: (position: number, count: number) =>
    new SyncError(SyncErrorCode.ConfigMapValueNotText, `value ${position} of ${count} (in key order) is not UTF-8 text, and a ConfigMap's data holds text; decode it (decodingStrategy) or target a Secret`, 'spec.target.manifest'),
  fetchedMismatch: (detail: string) =>
    new SyncError(SyncErrorCode.FetchedValuesMismatch, `fetched values do not match the spec: ${detail}`),
};
