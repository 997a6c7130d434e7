// Maps spec.provider.<name> to its implementation. Providers load lazily, so the operator only
// pays (memory, start-up) for the SDKs of the stores it actually has.
import type { Provider } from './provider.ts';

const loaders: Record<string, () => Promise<Provider>> = {
  fake: async () => (await import('./fake/index.ts')).fakeProvider as Provider,
  aws: async () => (await import('./aws/index.ts')).awsProvider as Provider,
  vault: async () => (await import('./vault/index.ts')).vaultProvider as Provider,
  kubernetes: async () => (await import('./kubernetes/index.ts')).kubernetesProvider as Provider,
  azurekv: async () => (await import('./azure/index.ts')).azureProvider as Provider,
  gcpsm: async () => (await import('./gcp/index.ts')).gcpProvider as Provider,
};

const loaded = new Map<string, Provider>();

/**
 * A store's spec.provider names no provider, several, or one this build does not include. A
 * configuration problem of the store, reported as such (not as a provider failure).
 */
export class StoreProviderConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreProviderConfigError';
  }
}

/**
 * ESO 2.9's capabilities of the providers this build does not include but ESO reports as not
 * ReadWrite, so a PushSecret to such a store is refused as ReadOnly (as ESO would), before
 * the store's lack of support here is reported.
 */
const ESO_LIMITED_CAPABILITIES: Readonly<Record<string, 'ReadOnly' | 'WriteOnly'>> = {
  barbican: 'ReadOnly', beyondtrustworkloadcredentials: 'ReadOnly', chef: 'ReadOnly', cloudrusm: 'ReadOnly',
  conjur: 'ReadOnly', delinea: 'ReadOnly', doppler: 'ReadOnly', fortanix: 'ReadOnly', github: 'WriteOnly',
  gitlab: 'ReadOnly', ibm: 'ReadOnly', nebiusmysterybox: 'ReadOnly', ngrok: 'WriteOnly', onboardbase: 'ReadOnly',
  passbolt: 'ReadOnly', passworddepot: 'ReadOnly', previder: 'ReadOnly', pulumi: 'ReadOnly', senhasegura: 'ReadOnly',
  volcengine: 'ReadOnly', yandexcertificatemanager: 'ReadOnly', yandexlockbox: 'ReadOnly',
};

/** ESO's capabilities of a provider this build lacks, when they are not ReadWrite. */
export function esoCapabilitiesOf(name: string): 'ReadOnly' | 'WriteOnly' | undefined {
  return Object.hasOwn(ESO_LIMITED_CAPABILITIES, name) ? ESO_LIMITED_CAPABILITIES[name] : undefined;
}

export function supportedProviders(): string[] {
  return Object.keys(loaders).sort();
}

/** The provider named by a store's spec.provider, which must have exactly one key. */
export function providerName(spec: { provider?: Record<string, unknown> | undefined }): string {
  const keys = Object.keys(spec.provider ?? {}).filter((k) => spec.provider![k] != null);
  if (keys.length !== 1) {
    throw new StoreProviderConfigError(keys.length === 0 ? 'spec.provider: no provider configured' : `spec.provider: exactly one provider expected, found ${keys.map((k) => JSON.stringify(k)).join(', ')}`);
  }
  return keys[0]!;
}

export async function getProvider(name: string): Promise<Provider> {
  const hit = loaded.get(name);
  if (hit) return hit;
  const load = Object.hasOwn(loaders, name) ? loaders[name] : undefined;
  if (!load) {
    // The key is tenant-written: quoted and cut short.
    const key = /^[A-Za-z0-9]{1,64}$/.test(name) ? name : JSON.stringify(name.slice(0, 64));
    throw new StoreProviderConfigError(`spec.provider.${key}: the ${JSON.stringify(name.slice(0, 64))} provider is not supported by this build of tessera (supported: ${supportedProviders().join(', ')})`);
  }
  const p = await load();
  loaded.set(name, p);
  return p;
}
