// Where a store's provider configuration refers to other Kubernetes objects (Secrets, ConfigMaps,
// ServiceAccounts), derived from the schema rather than from field names: every object node that
// declares both `name` and `namespace` is a reference (SecretKeySelector, ServiceAccountSelector,
// CAProvider, and whatever a new provider adds). Tenant isolation depends on this list being
// complete: a SecretStore may not reach into another namespace, and a ClusterSecretStore's
// namespace-less references resolve in each ExternalSecret's namespace, so its clients cannot be
// shared. A name-based guess (`…Ref$`) missed caProvider, bearerToken, clientCert and clientKey.
import { cachedSchema } from './defaults.ts';
import { typeNameOf, type Schema } from './openapi.ts';

export interface ReferenceField {
  /** The provider key under spec.provider ("vault"). */
  provider: string;
  /** Path below the provider's config; "*" stands for any list item. */
  path: readonly string[];
  /** The field as users write it: "spec.provider.vault.caProvider", with "[*]" for list items. */
  field: string;
  /** The schema's type name, e.g. "SecretKeySelector", "CAProvider". */
  type: string;
}

export interface FoundReference {
  /** The concrete field, e.g. "spec.provider.vault.auth.tokenSecretRef" or "…sessionTags[2]…". */
  field: string;
  type: string;
  name: unknown;
  namespace: unknown;
}

function isReference(node: Schema): boolean {
  return node.type === 'object' && !!node.properties?.['name'] && !!node.properties?.['namespace'];
}

let cached: ReferenceField[] | undefined;

/** Every reference field of every provider, from the SecretStore schema (v1 and v1beta1). */
export function storeReferenceFields(): readonly ReferenceField[] {
  if (cached) return cached;
  const byField = new Map<string, ReferenceField>();
  for (const version of ['v1', 'v1beta1'] as const) {
    const providers = cachedSchema('SecretStore', version).properties?.['spec']?.properties?.['provider']?.properties ?? {};
    for (const [provider, root] of Object.entries(providers)) {
      const visit = (node: Schema, path: string[], field: string) => {
        if (isReference(node)) {
          byField.set(field, { provider, path, field, type: typeNameOf(node) ?? 'Reference' });
          return; // a reference holds no nested references
        }
        for (const [k, child] of Object.entries(node.properties ?? {})) visit(child, [...path, k], `${field}.${k}`);
        if (node.items) visit(node.items, [...path, '*'], `${field}[*]`);
      };
      visit(root, [], `spec.provider.${provider}`);
    }
  }
  cached = [...byField.values()];
  return cached;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The references set in one provider's config (`spec.provider[provider]`), with their fields. */
export function referencesIn(provider: string, config: unknown): FoundReference[] {
  const out: FoundReference[] = [];
  for (const ref of storeReferenceFields()) {
    if (ref.provider !== provider) continue;
    const walk = (value: unknown, i: number, field: string) => {
      if (i === ref.path.length) {
        if (isRecord(value)) out.push({ field, type: ref.type, name: value['name'], namespace: value['namespace'] });
        return;
      }
      const seg = ref.path[i]!;
      if (seg === '*') {
        if (Array.isArray(value)) value.forEach((item, j) => walk(item, i + 1, `${field}[${j}]`));
      } else if (isRecord(value)) {
        walk(value[seg], i + 1, `${field}.${seg}`);
      }
    };
    walk(config, 0, `spec.provider.${provider}`);
  }
  return out;
}
