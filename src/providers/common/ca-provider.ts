// spec.provider.<name>.caProvider (ESO's CAProvider): CA certificates from a Secret or a ConfigMap
// key. Vault and Kubernetes stores both accept one; the check and the read are written once here.
import { ProviderError } from '../provider.ts';
import type { ProviderContext, SecretKeySelector } from '../provider.ts';

/** CA certificates from a Secret or a ConfigMap key (ESO's CAProvider). */
export interface CAProvider {
  type: 'Secret' | 'ConfigMap';
  name: string;
  key?: string | undefined;
  namespace?: string | undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** caProvider needs the key to read (the schema leaves it optional; type and name it requires). */
export function checkCAProvider(problems: string[], path: string, cp: unknown): void {
  if (!isObject(cp)) return;
  if (cp.key === undefined || cp.key === '') problems.push(`${path}.key: is required`);
}

/** CA certificates from caProvider (Secret or ConfigMap key). */
export async function readCAProvider(cp: CAProvider, ctx: ProviderContext, path: string): Promise<string> {
  const ref: SecretKeySelector = { name: cp.name, key: cp.key, namespace: cp.namespace };
  try {
    if (cp.type === 'Secret') return await ctx.readSecretKey(ref);
    if (!ctx.readConfigMapKey) throw new ProviderError('InvalidRequest', `${path}: ConfigMap CA bundles are not available in this context`);
    return await ctx.readConfigMapKey(ref);
  } catch (err) {
    if (err instanceof ProviderError) throw new ProviderError(err.kind === 'BadCredentials' ? 'InvalidRequest' : err.kind, `${path}: ${err.message}`, { cause: err });
    throw new ProviderError('InvalidRequest', `${path}: could not read ${cp.type} ${JSON.stringify(cp.name)}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
