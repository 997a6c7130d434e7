// Turns remoteRef.key into Vault API paths with ESO's rules (providers/v1/vault/client_get.go):
// - with a store path (the mount): a key that already starts with "<mount>/" has it cut, and on
//   KV v2 a following "data/" too; the result goes under "<mount>/data/" (v2) or "<mount>/" (v1);
// - without a store path: the key's first segment is the mount; KV v2 inserts "data" after it
//   unless the key already contains "/data/".
// A key may start with "/" (ESO's Vault docs write `key: /dev/config`). ESO joins it as it is, and
// the doubled slash reaches Vault, whose router answers with a redirect to the cleaned path that
// Vault's Go client follows; so "/dev/config" under mount "secret" reads secret/data/dev/config.
// We clean the built path the same way instead of following redirects from a tenant's server.
import { ProviderError } from '../provider.ts';
import type { VaultKVStoreVersion } from './config.ts';

function stripMount(mount: string, key: string, version: VaultKVStoreVersion): string {
  const cut = `${mount}/`;
  if (!key.startsWith(cut)) return key;
  let out = key.slice(cut.length);
  if (version === 'v2' && out.startsWith('data/')) out = out.slice('data/'.length);
  return out;
}

/** Drops empty segments, as Vault's router cleans "a//b" and a leading or trailing "/". */
function collapseSlashes(path: string): string {
  return path.split('/').filter((s) => s !== '').join('/');
}

/** The path of a secret's data: GET /v1/<this>. */
export function dataPath(mount: string | undefined, version: VaultKVStoreVersion, key: string): string {
  return collapseSlashes(rawDataPath(mount, version, key));
}

/** The path of a KV v2 secret's metadata (custom_metadata, versions), or of a v1 key. */
export function metadataPath(mount: string | undefined, version: VaultKVStoreVersion, key: string): string {
  return collapseSlashes(rawMetadataPath(mount, version, key));
}

// Both are joined exactly as ESO joins them (client_get.go buildPath, buildMetadataPath), so that
// where a slash lands before the cleaning is the same as there.
function rawDataPath(mount: string | undefined, version: VaultKVStoreVersion, key: string): string {
  if (mount !== undefined && mount !== '') {
    const rest = stripMount(mount, key, version);
    return version === 'v2' ? `${mount}/data/${rest}` : `${mount}/${rest}`;
  }
  if (version === 'v2' && !key.includes('/data/')) {
    const i = key.indexOf('/');
    return i < 0 ? `${key}/data` : `${key.slice(0, i)}/data/${key.slice(i + 1)}`;
  }
  return key;
}

function rawMetadataPath(mount: string | undefined, version: VaultKVStoreVersion, key: string): string {
  if (version === 'v1') return mount ? `${mount}/${stripMount(mount, key, version)}` : key;
  if (mount !== undefined && mount !== '') return `${mount}/metadata/${stripMount(mount, key, version)}`;
  if (!key.includes('/data/')) {
    throw new ProviderError('InvalidRequest', `Vault: remote key ${JSON.stringify(key)} is not a KV v2 path: set spec.provider.vault.path or write the key as <mount>/data/<name>`);
  }
  return key.replace('/data/', '/metadata/');
}

/**
 * Encodes each path segment for a URL, keeping the slashes. "." and ".." segments are refused:
 * URL parsing resolves them (encoded or not), so a key such as "../../other/data/x" would leave
 * the store's mount, or /v1/ altogether.
 */
export function encodePath(path: string): string {
  const segments = path.split('/');
  if (segments.some((s) => s === '.' || s === '..')) {
    throw new ProviderError('InvalidRequest', `Vault: path ${JSON.stringify(path.slice(0, 200))} contains a "." or ".." segment`);
  }
  return segments.map((s) => encodeURIComponent(s)).join('/');
}
