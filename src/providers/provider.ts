// The contract between the sync core and every secret-manager backend.
//
// Providers return *raw* remote values: property extraction, decoding and conversion happen in
// the pure sync core. That split is what lets the controller coalesce identical reads
// (store, key, version) across many ExternalSecrets into one provider call.
import type { RemoteValue } from '../sync/remote-value.ts';

/** Which remote value to read. `version` is provider-specific (AWS: "uuid/<id>" or a stage). */
export interface RemoteValueRef {
  key: string;
  version?: string | undefined;
  /** "Fetch" asks for the secret's metadata (tags / custom metadata) instead of its value. */
  metadataPolicy?: 'None' | 'Fetch' | undefined;
}

/** A remote value exactly as the provider holds it (the pure core's input type, defined there). */
export type { RemoteValue };

/** dataFrom[].find, as written in the manifest (v1 shape). */
export interface FindQuery {
  path?: string | undefined;
  name?: { regexp: string } | undefined;
  tags?: Record<string, string> | undefined;
  conversionStrategy?: string | undefined;
  decodingStrategy?: string | undefined;
}

/**
 * Where a PushSecret writes: spec.data[].match.remoteRef. `property` names one field of a JSON
 * secret (the rest of it is kept); without it the whole remote secret is the value.
 */
export interface PushRef {
  remoteKey: string;
  property?: string | undefined;
}

/** One value to write (PushSecret spec.data[] after conversion and template). */
export interface PushRequest {
  ref: PushRef;
  /** The bytes to store. A whole-Secret push (no secretKey) is Go's JSON of the Secret's data. */
  value: Uint8Array;
  /** spec.data[].metadata as written: provider-specific (tags, push format, ...). */
  metadata?: unknown;
  /**
   * Set for a whole-Secret push (no secretKey): the Secret's data, for providers that encode it
   * their own way (Parameter Store's base64 JSON unless encodeAsDecoded, as ESO).
   */
  wholeSecret?: ReadonlyMap<string, Uint8Array> | undefined;
}

/**
 * One store's client. Every call takes an optional `signal` (the reconcile's deadline, shutdown,
 * or the shared call's when the reader coalesces): when it aborts, the call ends at once, frees
 * its connection and rejects with the signal's reason (an AbortError or TimeoutError, see
 * src/shared-call.ts isAbortError), never with a value. Each remote call also keeps its own
 * total deadline (--provider-timeout), which fails it as a ProviderError.
 */
export interface ProviderClient {
  /** Reads one remote value. Throws NotFoundError when the key (or version) does not exist. */
  getValue(ref: RemoteValueRef, signal?: AbortSignal): Promise<RemoteValue>;
  /**
   * Optional batch read. Returns one entry per ref, in order: a value or the error for that ref.
   * Providers with a batch API (AWS BatchGetSecretValue) implement it to save calls. An abort
   * rejects the whole call.
   */
  getValues?(refs: readonly RemoteValueRef[], signal?: AbortSignal): Promise<Array<RemoteValue | Error>>;
  /** dataFrom.find: every matching secret, keyed by its remote name. */
  findValues(query: FindQuery, signal?: AbortSignal): Promise<Map<string, RemoteValue>>;
  /** Checks that configuration and credentials work (store readiness). */
  validate(signal?: AbortSignal): Promise<void>;
  /**
   * PushSecret: writes one value. Providers that mark what they own (ESO's `managed-by:
   * external-secrets` tag or custom metadata) create the remote secret with the mark, and refuse
   * (RemoteNotOwnedError) to change one that exists without it. Absent: the provider cannot write.
   */
  pushValue?(req: PushRequest, signal?: AbortSignal): Promise<void>;
  /**
   * PushSecret deletionPolicy Delete: removes a value pushed before. Does nothing when the remote
   * secret is gone or does not carry the provider's ownership mark (it is not ours to delete).
   */
  deleteValue?(ref: PushRef, signal?: AbortSignal): Promise<void>;
  /** PushSecret updatePolicy IfNotExists: whether the remote secret (or its property) exists. */
  remoteExists?(ref: PushRef, signal?: AbortSignal): Promise<boolean>;
  close(): Promise<void>;
}

/** Why a provider call failed, in terms the controller acts on. */
export type ProviderErrorKind =
  | 'NotFound' // the key or version does not exist: the only kind that may drive deletion
  | 'AccessDenied'
  | 'BadCredentials'
  | 'Throttled'
  | 'Unreachable'
  | 'InvalidRequest'
  | 'Unknown';

/** How a failure of each kind reads in a status message (cloud providers; Vault words its own). */
export const PROVIDER_ERROR_WORDS: Readonly<Record<ProviderErrorKind, string>> = {
  NotFound: 'not found',
  AccessDenied: 'access denied',
  BadCredentials: 'credentials rejected',
  Throttled: 'throttled',
  Unreachable: 'endpoint unreachable',
  InvalidRequest: 'invalid request',
  Unknown: 'failed',
};

/**
 * A provider failure. The message must never contain a secret value: it names the store, key
 * and the remote service's error code only.
 */
export class ProviderError extends Error {
  readonly kind: ProviderErrorKind;
  readonly retryable: boolean;
  constructor(kind: ProviderErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProviderError';
    this.kind = kind;
    this.retryable = kind === 'Throttled' || kind === 'Unreachable' || kind === 'Unknown';
  }
}

export class NotFoundError extends ProviderError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NotFound', message, options);
    this.name = 'NotFoundError';
  }
}

export function isNotFound(err: unknown): err is NotFoundError {
  return err instanceof ProviderError && err.kind === 'NotFound';
}

/** A reference to one key of a Kubernetes Secret, as store specs write it. */
export interface SecretKeySelector {
  name: string;
  key?: string | undefined;
  namespace?: string | undefined;
}

/**
 * What a provider may ask of the cluster while it builds a client. The controller implements
 * it with the store-kind rules applied (a SecretStore reads only its own namespace; a
 * ClusterSecretStore reads the namespace named in the reference, or the ExternalSecret's).
 */
export interface ProviderContext {
  /** Namespace the credentials are read from when a reference names none. */
  namespace: string;
  /** Reads one key of a Secret; throws ProviderError('BadCredentials') when it is missing. */
  readSecretKey(ref: SecretKeySelector): Promise<string>;
  /**
   * Reads one key of a ConfigMap, with the same namespace rules as readSecretKey (caProvider of
   * type ConfigMap). Optional: providers report InvalidRequest when a store needs it and it is absent.
   */
  readConfigMapKey?(ref: SecretKeySelector): Promise<string>;
  /** Issues a service-account token through the TokenRequest API. */
  createServiceAccountToken(ref: { name: string; namespace?: string | undefined; audiences?: string[] | undefined }): Promise<string>;
  /** Environment overrides (e.g. AWS_ENDPOINT_URL for tests); defaults to process.env. */
  env?: Record<string, string | undefined>;
  /**
   * Reads a ServiceAccount's annotations (workload identity: AWS IRSA's
   * eks.amazonaws.com/role-arn, GKE's iam.gke.io/gcp-service-account, …), with the same
   * namespace rules as createServiceAccountToken. Optional: providers fall back to the store spec.
   */
  readServiceAccountAnnotations?(ref: { name: string; namespace?: string | undefined }): Promise<Record<string, string>>;
  /**
   * Called once per remote API call, for externalsecret_provider_api_calls_count. `operation` is
   * the remote operation (e.g. "GetSecretValue"); `detail` carries ESO's metric labels.
   */
  onApiCall?(operation: string, detail?: ApiCallDetail): void;
  /** Total deadline of one remote call (ms); providers/common's default (30 s) when absent. */
  callDeadlineMs?: number | undefined;
}

/** Labels of one remote API call, as ESO's externalsecret_provider_api_calls_count uses them. */
export interface ApiCallDetail {
  /** ESO's provider label, e.g. "AWS/SecretsManager", "AWS/ParameterStore", "AWS/STS". */
  provider: string;
  status: 'success' | 'error';
}

/** Builds clients for one `spec.provider.<name>` block. */
export interface Provider<Config = unknown> {
  /** The key under spec.provider, e.g. "aws". */
  readonly name: string;
  /** Static checks of the config; returns human-readable problems naming the field. */
  validateConfig(config: Config): string[];
  /** What the store can do: ReadOnly, WriteOnly or ReadWrite. */
  capabilities(config: Config): 'ReadOnly' | 'WriteOnly' | 'ReadWrite';
  newClient(config: Config, ctx: ProviderContext): Promise<ProviderClient>;
  /**
   * Loads what newClient will need for this config (an SDK's modules), with no credentials and
   * no network, so that a later newClient does not wait for module loading. Optional; a failure
   * is the caller's to ignore (newClient reports it).
   */
  warm?(config: Config): Promise<void>;
  /**
   * When the config makes the store act as the controller itself (the AWS default credential
   * chain, the controller's own service-account token): the field responsible and what it
   * would use, for a status message. Undefined when every credential comes from the store's own
   * references. The controller refuses such namespaced stores under
   * `--namespaced-store-controller-identity=deny`.
   */
  controllerIdentity?(config: Config): { field: string; uses: string } | undefined;
}
