// The VaultDynamicSecret generator: one call to any Vault path (a PKI certificate, database or
// cloud credentials, a token from auth/token/create) with the Vault store's own client and auth
// (src/providers/vault), and the answer's `data` (Data), `auth` (Auth) or whole body (Raw) as
// the generated keys. Strings are written as they are, anything else as Go's JSON, as ESO does.
import type { VaultDynamicSecretSpec } from '../api/types.generated.ts';
import { goJsonMarshal, JsonNumber } from '../go/json.ts';
import type { ProviderContext } from '../providers/provider.ts';
import { newVaultClient, type VaultProvider } from '../providers/vault/index.ts';
import { generatorErrors } from './errors.ts';

/** ESO's GetByteValue: a string as it is, a number as its literal, anything else as Go's JSON. */
export function byteValue(v: unknown): Uint8Array {
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (v instanceof JsonNumber) return Buffer.from(v.raw, 'utf8');
  if (v === null || v === undefined) return new Uint8Array();
  return Buffer.from(goJsonMarshal(v), 'utf8');
}

/** getParameters as Vault's query string (one value per key: the last one written). */
function query(params: Record<string, string[]> | undefined): Record<string, string> | undefined {
  if (!params) return undefined;
  const out: Record<string, string> = {};
  for (const [k, values] of Object.entries(params)) if (values.length > 0) out[k] = values[values.length - 1]!;
  return out;
}

export async function generateVaultDynamicSecret(spec: VaultDynamicSecretSpec, ctx: ProviderContext, signal: AbortSignal, field = 'spec'): Promise<Record<string, Uint8Array>> {
  if (!spec.provider) throw generatorErrors.invalidSpec(`${field}.provider`, 'is required');
  const path = spec.path.replace(/^\/+/, '');
  if (path === '') throw generatorErrors.invalidSpec(`${field}.path`, 'is empty');
  const method = (spec.method || 'GET').toUpperCase();
  const client = await newVaultClient(spec.provider as VaultProvider, ctx);
  let body: Record<string, unknown> | undefined;
  try {
    body = method === 'GET'
      ? await client.request('GET', path, { query: query(spec.getParameters), signal })
      : method === 'LIST' || method === 'DELETE'
        ? await client.request(method, path, { signal })
        : await client.request(method, path, { body: spec.parameters ?? {}, signal });
  } finally {
    await client.close();
  }
  if (!body) {
    if (spec.allowEmptyResponse) return {};
    throw generatorErrors.invalidSpec(`${field}.path`, `Vault answered ${method} ${JSON.stringify(path)} with no data (set allowEmptyResponse: true if none is expected)`);
  }
  const section = spec.resultType === 'Auth' ? body['auth'] : spec.resultType === 'Raw' ? body : body['data'];
  if (section === null || section === undefined || typeof section !== 'object' || Array.isArray(section)) {
    if (spec.allowEmptyResponse) return {};
    throw generatorErrors.invalidSpec(`${field}.resultType`, `the answer of Vault to ${method} ${JSON.stringify(path)} has no ${spec.resultType === 'Auth' ? '"auth"' : spec.resultType === 'Raw' ? 'object' : '"data"'} section`);
  }
  const out: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(section as Record<string, unknown>)) out[k] = byteValue(v);
  return out;
}
