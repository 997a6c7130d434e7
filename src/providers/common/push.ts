// What every provider's PushSecret side shares: ESO's ownership mark, the refusal to touch a
// remote secret without it, the PushSecretMetadata envelope of spec.data[].metadata, and setting
// one property of a JSON secret. Written once so that AWS, Vault and the others agree.
import { parseJsonKeepingNumbers, goJsonMarshal } from '../../go/json.ts';
import { ProviderError } from '../provider.ts';

/**
 * ESO marks what a PushSecret created with this tag (AWS) or custom_metadata entry (Vault), and
 * only ever overwrites or deletes a remote secret that carries it. Same key and value as ESO, so
 * secrets pushed by ESO before a migration stay ours, and secrets nobody pushed stay untouched.
 */
export const MANAGED_BY_KEY = 'managed-by';
export const MANAGED_BY_VALUE = 'external-secrets';

/** A remote secret exists without the ownership mark: a PushSecret must not change it. */
export class RemoteNotOwnedError extends ProviderError {
  constructor(where: string) {
    super('InvalidRequest', `${where}: secret not managed by external-secrets (it exists without the ${MANAGED_BY_KEY}: ${MANAGED_BY_VALUE} mark, so it is left unchanged)`);
    this.name = 'RemoteNotOwnedError';
  }
}

export function isRemoteNotOwned(err: unknown): err is RemoteNotOwnedError {
  return err instanceof RemoteNotOwnedError;
}

/** The envelope ESO reads spec.data[].metadata in (runtime/esutils/metadata). */
export const PUSH_METADATA_API_VERSION = 'kubernetes.external-secrets.io/v1alpha1';
export const PUSH_METADATA_KIND = 'PushSecretMetadata';

/**
 * The `spec` of a PushSecretMetadata envelope, or undefined when there is no metadata. A wrong
 * apiVersion or kind, or a spec that is not an object, is refused naming the field, as ESO does.
 * `allowed` lists the spec keys the provider reads: others are refused (ESO decodes strictly).
 */
export function pushMetadataSpec(metadata: unknown, allowed: readonly string[], provider: string): Record<string, unknown> | undefined {
  if (metadata === undefined || metadata === null) return undefined;
  const where = `spec.data[].metadata (${provider})`;
  if (typeof metadata !== 'object' || Array.isArray(metadata)) throw new ProviderError('InvalidRequest', `${where}: must be an object`);
  const m = metadata as Record<string, unknown>;
  if (m.apiVersion !== PUSH_METADATA_API_VERSION) throw new ProviderError('InvalidRequest', `${where}: unexpected apiVersion ${JSON.stringify(String(m.apiVersion ?? '').slice(0, 100))}, expected ${JSON.stringify(PUSH_METADATA_API_VERSION)}`);
  if (m.kind !== PUSH_METADATA_KIND) throw new ProviderError('InvalidRequest', `${where}: unexpected kind ${JSON.stringify(String(m.kind ?? '').slice(0, 100))}, expected ${JSON.stringify(PUSH_METADATA_KIND)}`);
  for (const k of Object.keys(m)) {
    if (!['apiVersion', 'kind', 'spec'].includes(k)) throw new ProviderError('InvalidRequest', `${where}: unknown field ${JSON.stringify(k.slice(0, 100))}`);
  }
  const spec = m.spec ?? {};
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw new ProviderError('InvalidRequest', `${where}.spec: must be an object`);
  for (const k of Object.keys(spec)) {
    if (!allowed.includes(k)) throw new ProviderError('InvalidRequest', `${where}.spec: unknown field ${JSON.stringify(k.slice(0, 100))} (known: ${allowed.join(', ')})`);
  }
  return spec as Record<string, unknown>;
}

/** A map[string]string field of the metadata spec (tags, labels), checked. */
export function stringMapField(spec: Record<string, unknown> | undefined, key: string, provider: string): Record<string, string> {
  const v = spec?.[key];
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) {
    throw new ProviderError('InvalidRequest', `spec.data[].metadata.spec.${key} (${provider}): must be a map of strings`);
  }
  return v as Record<string, string>;
}

const dec = new TextDecoder();

/**
 * Sets `property` of the JSON object in `current` (empty: a new object) to `value` as a string,
 * keeping every other field, as ESO does for a push with remoteRef.property. A current value that
 * is not a JSON object cannot hold a property: refused, naming the key (never quoting the value).
 */
export function withProperty(current: Uint8Array | undefined, property: string, value: Uint8Array, where: string): string {
  let obj: Record<string, unknown> = {};
  const text = current === undefined ? '' : dec.decode(current);
  if (text.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = parseJsonKeepingNumbers(text);
    } catch {
      parsed = undefined;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new ProviderError('InvalidRequest', `${where}: a push with remoteRef.property requires the remote secret to be a JSON object`);
    }
    obj = parsed as Record<string, unknown>;
  }
  obj[property] = dec.decode(value);
  return goJsonMarshal(obj, { escapeHTML: false });
}
