// Maps spec.provider.<name> to its implementation. Providers load lazily, so the operator only
// pays (memory, start-up) for the SDKs of the stores it actually has.
import type { Provider } from './provider.ts';

const loaders: Record<string, () => Promise<Provider>> = {
  fake: async () => (await import('./fake/index.ts')).fakeProvider as Provider,
  aws: async () => (await import('./aws/index.ts')).awsProvider as Provider,
  vault: async () => (await import('./vault/index.ts')).vaultProvider as Provider,
  kubernetes: async () => (await import('./kubernetes/index.ts')).kubernetesProvider as Provider,
};

const loaded = new Map<string, Provider>();

export function supportedProviders(): string[] {
  return Object.keys(loaders).sort();
}

/** The provider named by a store's spec.provider, which must have exactly one key. */
export function providerName(spec: { provider?: Record<string, unknown> | undefined }): string {
  const keys = Object.keys(spec.provider ?? {}).filter((k) => spec.provider![k] != null);
  if (keys.length !== 1) {
    throw new Error(keys.length === 0 ? 'spec.provider: no provider configured' : `spec.provider: exactly one provider expected, found ${keys.join(', ')}`);
  }
  return keys[0]!;
}

export async function getProvider(name: string): Promise<Provider> {
  const hit = loaded.get(name);
  if (hit) return hit;
  const load = loaders[name];
  if (!load) throw new Error(`spec.provider.${name}: provider not supported by this build (supported: ${supportedProviders().join(', ')})`);
  const p = await load();
  loaded.set(name, p);
  return p;
}
