// Controller-level outcomes: what the ExternalSecret and store reconcilers report in status
// conditions and events when the problem is not in the pure sync (store lookup, namespace
// conditions, provider failures). One place for each message; docs/errors.md mirrors them.
// Messages name stores, keys and error codes, never secret values.
import { ProviderError } from '../providers/provider.ts';
import { StoreProviderConfigError } from '../providers/registry.ts';
import { ApiError } from '../kube/client.ts';

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
} as const;
export type ControllerErrorCode = (typeof ControllerErrorCode)[keyof typeof ControllerErrorCode];

/** A failure the ExternalSecret reports in its status; `retry` says whether backoff applies. */
export class ControllerError extends Error {
  readonly code: ControllerErrorCode;
  readonly retry: boolean;
  constructor(code: ControllerErrorCode, message: string, retry: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ControllerError';
    this.code = code;
    this.retry = retry;
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
  secretWriteFailed: (name: string, detail: string) =>
    new ControllerError(ControllerErrorCode.SecretWriteFailed, `could not write secret ${JSON.stringify(name)}: ${detail}`, true),
  /** A refused Secret write, described without the apiserver's message (it quotes the invalid value). */
  secretWriteRefused: (name: string, err: unknown) =>
    new ControllerError(ControllerErrorCode.SecretWriteFailed, `could not write secret ${JSON.stringify(name)}: ${writeFailureDetail(err)}`, true),
  /** Wraps a provider failure for status: the provider's message is already value-free. */
  fromProvider: (store: string, err: unknown) => {
    if (err instanceof ControllerError) return err;
    // No provider, several, or one this build lacks: the store is invalid, say which key.
    if (err instanceof StoreProviderConfigError) return new ControllerError(ControllerErrorCode.InvalidStoreConfiguration, `store ${store} is invalid: ${err.message}`, false);
    if (err instanceof ProviderError) {
      const code =
        err.kind === 'AccessDenied' ? ControllerErrorCode.ProviderAccessDenied
        : err.kind === 'BadCredentials' ? ControllerErrorCode.ProviderBadCredentials
        : err.kind === 'Throttled' ? ControllerErrorCode.ProviderThrottled
        : err.kind === 'Unreachable' ? ControllerErrorCode.ProviderUnavailable
        : ControllerErrorCode.ProviderError;
      return new ControllerError(code, `could not get secret data from provider (store ${store}): ${err.message}`, true, { cause: err });
    }
    // Not one of ours: its message may quote what the provider answered, so only its name is kept.
    const name = err instanceof Error ? err.name : typeof err;
    return new ControllerError(ControllerErrorCode.ProviderError, `could not get secret data from provider (store ${store}): unexpected ${name}`, true);
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
