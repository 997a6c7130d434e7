// Controller-level outcomes: what the ExternalSecret and store reconcilers report in status
// conditions and events when the problem is not in the pure sync (store lookup, namespace
// conditions, provider failures). One place for each message; docs/errors.md mirrors them.
// Messages name stores, keys and error codes, never secret values.
import { ProviderError } from '../providers/provider.ts';
import { StoreProviderConfigError } from '../providers/registry.ts';
import { isAbortError } from '../shared-call.ts';
import { isRemoteNotOwned } from '../providers/common/push.ts';
import { ApiError } from '../kube/client.ts';
import { GeneratorError } from '../generators/index.ts';
import type { RetryHints } from '../kube/controller.ts';

/** SecretStore / ClusterSecretStore Ready condition reasons, as ESO writes them. */
export const StoreReason = {
  Valid: 'Valid',
  InvalidStoreConfiguration: 'InvalidStoreConfiguration',
  InvalidProviderConfig: 'InvalidProviderConfig',
  ValidationFailed: 'ValidationFailed',
} as const;

export const ControllerErrorCode = {
  StoreNotFound: 'StoreNotFound',
  NamespaceNotAllowed: 'NamespaceNotAllowed',
  InvalidStoreConfiguration: 'InvalidStoreConfiguration',
  ControllerIdentityDenied: 'ControllerIdentityDenied',
  ProviderUnavailable: 'ProviderUnavailable',
  ProviderAccessDenied: 'ProviderAccessDenied',
  ProviderBadCredentials: 'ProviderBadCredentials',
  ProviderThrottled: 'ProviderThrottled',
  ProviderError: 'ProviderError',
  UnsupportedSource: 'UnsupportedSource',
  TemplateSourceNotFound: 'TemplateSourceNotFound',
  SecretWriteFailed: 'SecretWriteFailed',
  InvalidSpec: 'InvalidSpec',
  /** PushSecret: a store whose capabilities are ReadOnly cannot be pushed to. */
  StoreReadOnly: 'StoreReadOnly',
  /** PushSecret: the remote secret exists without ESO's managed-by mark; it is left unchanged. */
  RemoteNotOwned: 'RemoteNotOwned',
  /** PushSecret: the source Secret (selector.secret.name) does not exist. */
  PushSourceNotFound: 'PushSourceNotFound',
  GeneratorNotFound: 'GeneratorNotFound',
  GeneratorNotSupported: 'GeneratorNotSupported',
  GeneratorInvalid: 'GeneratorInvalid',
  GeneratorFailed: 'GeneratorFailed',
  GenericTargetsDisabled: 'GenericTargetsDisabled',
} as const;
export type ControllerErrorCode = (typeof ControllerErrorCode)[keyof typeof ControllerErrorCode];

/**
 * A failure someone has to fix (credentials refused, access denied, a request the provider
 * rejects): retried with backoff, but no sooner than this, instead of from 1 s. Fixing the store
 * (a spec change) re-enqueues its ExternalSecrets at once anyway.
 */
export const SLOW_RETRY_MS = 60_000;

/**
 * A failure the ExternalSecret reports in its status. `retry` says whether backoff applies: when
 * false the failure is terminal (the controller does not retry it; only a change of the
 * ExternalSecret, its store or its namespace, each of which re-enqueues it, can fix it).
 * `retryAfterMs` asks for slower retries (SLOW_RETRY_MS). Both are read by src/kube/controller.ts
 * through RetryHints.
 */
export class ControllerError extends Error implements RetryHints {
  readonly code: ControllerErrorCode;
  readonly retry: boolean;
  readonly retryAfterMs: number | undefined;
  constructor(code: ControllerErrorCode, message: string, retry: boolean, options?: { cause?: unknown; retryAfterMs?: number | undefined }) {
    super(message, options);
    this.name = 'ControllerError';
    this.code = code;
    this.retry = retry;
    this.retryAfterMs = retry ? options?.retryAfterMs : undefined;
  }

  get terminal(): boolean {
    return !this.retry;
  }
}

export const controllerErrors = {
  storeNotFound: (kind: string, name: string, namespace?: string) =>
    new ControllerError(ControllerErrorCode.StoreNotFound, `${kind} ${JSON.stringify(name)}${namespace ? ` in namespace ${JSON.stringify(namespace)}` : ''} not found`, false),
  namespaceNotAllowed: (store: string, namespace: string) =>
    new ControllerError(ControllerErrorCode.NamespaceNotAllowed, `ClusterSecretStore ${JSON.stringify(store)} does not allow ExternalSecrets in namespace ${JSON.stringify(namespace)} (spec.conditions)`, false),
  invalidStore: (store: string, problems: string[]) =>
    new ControllerError(ControllerErrorCode.InvalidStoreConfiguration, `store ${store} is invalid: ${problems.join('; ')}`, false),
  /** A namespaced store would act as the controller itself, which the platform forbids. */
  controllerIdentityDenied: (store: string, message: string) =>
    new ControllerError(ControllerErrorCode.ControllerIdentityDenied, `store ${store}: ${message}`, false),
  unsupportedSource: (field: string, what: string) =>
    new ControllerError(ControllerErrorCode.UnsupportedSource, `${field}: ${what} is not supported`, false),
  templateSourceNotFound: (kind: 'ConfigMap' | 'Secret', namespace: string, name: string) =>
    new ControllerError(ControllerErrorCode.TemplateSourceNotFound, `spec.target.template.templateFrom: ${kind} ${namespace}/${name} not found`, true),
  /** A field the apiserver admitted but the controller cannot use (detail names no value of a Secret). */
  invalidSpec: (field: string, detail: string) =>
    new ControllerError(ControllerErrorCode.InvalidSpec, `${field}: ${detail}`, false),
  /** ESO's rule: generic targets only with --unsafe-allow-generic-targets (a change of flag restarts the controller). */
  genericTargetsDisabled: () =>
    new ControllerError(ControllerErrorCode.GenericTargetsDisabled, 'spec.target.manifest: generic targets are disabled; enable them with --unsafe-allow-generic-targets', false),
  secretWriteFailed: (name: string, detail: string) =>
    new ControllerError(ControllerErrorCode.SecretWriteFailed, `could not write secret ${JSON.stringify(name)}: ${detail}`, true),
  /** A refused Secret write, described without the apiserver's message (it quotes the invalid value). */
  secretWriteRefused: (name: string, err: unknown) =>
    new ControllerError(ControllerErrorCode.SecretWriteFailed, `could not write secret ${JSON.stringify(name)}: ${writeFailureDetail(err)}`, true),
  storeReadOnly: (store: string) =>
    new ControllerError(ControllerErrorCode.StoreReadOnly, `cannot push to ${store}: its capabilities are ReadOnly (the provider cannot write); nothing was written`, false),
  pushSourceNotFound: (namespace: string, name: string) =>
    new ControllerError(ControllerErrorCode.PushSourceNotFound, `could not get source secret: spec.selector.secret.name: Secret ${namespace}/${name} not found`, true, { retryAfterMs: SLOW_RETRY_MS }),
  /** A failed push or delete of one remote key, ESO's wording ("could not write remote ref …"). */
  fromPush: (remoteRef: string, store: string, err: unknown) => {
    if (isRemoteNotOwned(err)) {
      return new ControllerError(ControllerErrorCode.RemoteNotOwned, `could not write remote ref ${remoteRef} to target secretstore ${store}: ${err.message}`, true, { cause: err, retryAfterMs: SLOW_RETRY_MS });
    }
    return controllerErrors.fromProvider(store, err, `could not write remote ref ${remoteRef} to target secretstore`);
  },
  /**
   * A generator's failure for status, prefixed with the generatorRef's field. Generator objects
   * are not watched, so a missing or invalid one is retried slowly (its fix re-enqueues nothing);
   * a kind this build lacks is terminal; a remote call's failure is retried like a store's.
   */
  fromGenerator: (field: string, err: unknown): ControllerError => {
    if (err instanceof GeneratorError) {
      const code = err.reason === 'NotFound' ? ControllerErrorCode.GeneratorNotFound
        : err.reason === 'NotSupported' ? ControllerErrorCode.GeneratorNotSupported
        : ControllerErrorCode.GeneratorInvalid;
      return new ControllerError(code, `${field}: ${err.message}`, err.reason !== 'NotSupported', { retryAfterMs: SLOW_RETRY_MS });
    }
    if (isAbortError(err) || err instanceof ApiError) {
      return new ControllerError(ControllerErrorCode.GeneratorFailed, `${field}: the generator could not run (${err instanceof ApiError ? `reading it: ${err.code}` : (err as Error).name})`, true, { cause: err });
    }
    if (err instanceof ProviderError) {
      return new ControllerError(ControllerErrorCode.GeneratorFailed, `${field}: ${err.message}`, true, { cause: err, retryAfterMs: err.retryable ? undefined : SLOW_RETRY_MS });
    }
    const name = err instanceof Error ? err.name : typeof err;
    return new ControllerError(ControllerErrorCode.GeneratorFailed, `${field}: the generator failed (unexpected ${name})`, true);
  },
  /**
   * Wraps a provider failure for status: the provider's message is already value-free. `doing`
   * is what failed (a read by default, as ESO words it; a push names the remote ref).
   */
  fromProvider: (store: string, err: unknown, doing?: string) => {
    const what = doing === undefined ? `could not get secret data from provider (store ${store})` : `${doing} ${store}`;
    if (err instanceof ControllerError) return err;
    // Cancelled (the reconcile's deadline or shutdown): not the provider's failure; retried.
    if (isAbortError(err)) {
      return new ControllerError(ControllerErrorCode.ProviderUnavailable, `${what}: the ${doing === undefined ? 'read' : 'call'} was cancelled (${(err as Error).name})`, true, { cause: err });
    }
    // No provider, several, or one this build lacks: the store is invalid, say which key.
    if (err instanceof StoreProviderConfigError) return new ControllerError(ControllerErrorCode.InvalidStoreConfiguration, `store ${store} is invalid: ${err.message}`, false);
    if (err instanceof ProviderError) {
      const code =
        err.kind === 'AccessDenied' ? ControllerErrorCode.ProviderAccessDenied
        : err.kind === 'BadCredentials' ? ControllerErrorCode.ProviderBadCredentials
        : err.kind === 'Throttled' ? ControllerErrorCode.ProviderThrottled
        : err.kind === 'Unreachable' ? ControllerErrorCode.ProviderUnavailable
        : ControllerErrorCode.ProviderError;
      // A failure retrying cannot fix by itself (refused credentials, denied access, a refused
      // request) is retried slowly: hot retries would only repeat it against the provider.
      return new ControllerError(code, `${what}: ${err.message}`, true, { cause: err, retryAfterMs: err.retryable ? undefined : SLOW_RETRY_MS });
    }
    // Not one of ours: its message may quote what the provider answered, so only its name is kept.
    const name = err instanceof Error ? err.name : typeof err;
    return new ControllerError(ControllerErrorCode.ProviderError, `${what}: unexpected ${name}`, true);
  },
};

/**
 * What a failed Secret write may say in status, events and logs. The apiserver's message quotes
 * the offending value ("metadata.labels: Invalid value: \"…\""), and a rendered label or
 * annotation can be a secret value, so only its code, reason and the fields at fault are kept.
 */
export function writeFailureDetail(err: unknown): string {
  if (err instanceof ApiError) {
    const details = err.status?.details as { causes?: Array<{ field?: unknown; reason?: unknown }> } | undefined;
    const causes = (Array.isArray(details?.causes) ? details.causes : [])
      .map((c) => [typeof c.field === 'string' ? c.field : '', typeof c.reason === 'string' ? c.reason : ''].filter(Boolean).join(' '))
      .filter(Boolean)
      .slice(0, 10);
    const why = causes.length > 0 ? `: ${causes.join('; ')}` : '';
    return `the API server refused it (${err.code}${err.reason ? ` ${err.reason}` : ''})${why}`;
  }
  const code = (err as { code?: unknown } | undefined)?.code;
  return `${err instanceof Error ? err.name : typeof err}${typeof code === 'string' ? ` ${code}` : ''}`;
}
