// Reads one Azure Key Vault with the official SDK clients (secrets, keys, certificates). Each SDK
// call is one API call for the metric (ESO's names: GetSecret, GetSecrets, GetKey,
// GetCertificate), has a total deadline (--provider-timeout) on top of the HTTP client's per
// exchange one, and ends at once when the caller's signal aborts.
import type { CertificateClient } from '@azure/keyvault-certificates';
import type { KeyClient } from '@azure/keyvault-keys';
import type { SecretClient } from '@azure/keyvault-secrets';
import { ProviderError, isNotFound } from '../provider.ts';
import type { FindQuery, ProviderClient, ProviderContext, RemoteValue, RemoteValueRef } from '../provider.ts';
import { CallLimitError, reportCall, type CallLimits } from '../common/http.ts';
import { abortReason } from '../../shared-call.ts';
import { startDeadline } from '../../deadline.ts';
import { mapLimit } from '../common/map-limit.ts';
import { nameRegexpFilter } from '../common/name-regexp.ts';
import { METRIC_PROVIDER, toProviderError } from './errors.ts';
import type { LimitedHttpClient } from './http-client.ts';
import { jsonWebKeyJson, metadataJson, parseObjectRef, tagsMatch, type ObjectRef } from './refs.ts';

/** Parallel reads of a find's matches. */
const FIND_CONCURRENCY = 8;
/**
 * Pages of a secret listing read at most (Key Vault pages hold 25): 400 pages, 10,000 secrets,
 * well past Key Vault's recommended size, so a listing that does not end cannot hold a worker.
 */
export const MAX_LIST_PAGES = 400;

const encoder = new TextEncoder();

export interface AzureClients {
  vaultUrl: string;
  secrets: SecretClient;
  keys: KeyClient;
  certificates: CertificateClient;
  http: LimitedHttpClient;
  limits: CallLimits;
  onApiCall: ProviderContext['onApiCall'];
}

export class AzureKeyVaultClient implements ProviderClient {
  readonly #c: AzureClients;

  constructor(clients: AzureClients) {
    this.#c = clients;
  }

  /** One SDK call: counted, bounded by the call deadline, cancelled with the caller. */
  async #call<T>(operation: string, key: string | undefined, signal: AbortSignal | undefined, run: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    const deadline = startDeadline(signal, this.#c.limits.deadlineMs);
    try {
      const out = await run(deadline.signal);
      reportCall(this.#c.onApiCall, operation, METRIC_PROVIDER, 'success');
      return out;
    } catch (err) {
      reportCall(this.#c.onApiCall, operation, METRIC_PROVIDER, 'error');
      // Cancelled by the caller: its reason goes up as it is, not as a failure of Azure.
      if (signal?.aborted) throw abortReason(signal);
      const site = { operation, key, vaultUrl: this.#c.vaultUrl };
      if (deadline.expired) throw toProviderError(new CallLimitError('DEADLINE_EXCEEDED', this.#c.limits.deadlineMs), site);
      throw toProviderError(err, site);
    } finally {
      deadline.release();
    }
  }

  async getValue(ref: RemoteValueRef, signal?: AbortSignal): Promise<RemoteValue> {
    const obj = parseObjectRef(ref.key, ref.version);
    const fetchMetadata = ref.metadataPolicy === 'Fetch';
    const label = ref.key + (obj.version ? `@${obj.version}` : '');
    switch (obj.type) {
      case 'secret': {
        const s = await this.#call('GetSecret', label, signal, (abortSignal) => this.#c.secrets.getSecret(obj.name, { ...version(obj), abortSignal }));
        return { value: encoder.encode(fetchMetadata ? metadataJson(s.properties) : (s.value ?? '')) };
      }
      case 'key': {
        const k = await this.#call('GetKey', label, signal, (abortSignal) => this.#c.keys.getKey(obj.name, { ...version(obj), abortSignal }));
        if (fetchMetadata) return { value: encoder.encode(metadataJson(k.properties)) };
        if (!k.key) throw new ProviderError('Unknown', `Azure KeyVault GetKey ${JSON.stringify(label)}: the answer holds no key`);
        return { value: encoder.encode(jsonWebKeyJson(k.key)) };
      }
      case 'cert': {
        const c = await this.#call('GetCertificate', label, signal, (abortSignal) =>
          obj.version ? this.#c.certificates.getCertificateVersion(obj.name, obj.version, { abortSignal }) : this.#c.certificates.getCertificate(obj.name, { abortSignal }));
        if (fetchMetadata) return { value: encoder.encode(metadataJson(c.properties)) };
        if (!c.cer) throw new ProviderError('Unknown', `Azure KeyVault GetCertificate ${JSON.stringify(label)}: the answer holds no certificate`);
        return { value: new Uint8Array(c.cer) };
      }
    }
  }

  /**
   * dataFrom.find: every enabled secret (keys and certificates are not listed, as in ESO) whose
   * name matches find.name.regexp and whose tags hold every find.tags pair, keyed by its name.
   */
  async findValues(query: FindQuery, signal?: AbortSignal): Promise<Map<string, RemoteValue>> {
    if (query.path !== undefined && query.path !== '') {
      // ESO's azurekv ignores path; ignoring a filter here would sync more than asked for.
      throw new ProviderError('InvalidRequest', 'find.path: not supported by Azure Key Vault (object names have no path); use find.name.regexp');
    }
    const matcher = query.name?.regexp !== undefined ? nameRegexpFilter(query.name.regexp) : undefined;
    const wantedTags = Object.entries(query.tags ?? {});
    const names: string[] = [];
    // The caller's signal cancels a page in flight; each page's own deadline is applied below.
    const pages = this.#c.secrets.listPropertiesOfSecrets(signal ? { abortSignal: signal } : {}).byPage();
    for (let page = 0; ; page++) {
      if (page >= MAX_LIST_PAGES) {
        throw new ProviderError('InvalidRequest', `find: the vault lists more than ${MAX_LIST_PAGES} pages of secrets; narrow the search (find.tags) or split the vault`);
      }
      const next = await this.#call('GetSecrets', undefined, signal, (abortSignal) => abortable(pages.next(), abortSignal));
      if (next.done) break;
      for (const s of next.value) {
        if (s.enabled === false || !s.name) continue;
        if (!tagsMatch(s.tags, wantedTags)) continue;
        if (matcher && !matcher(s.name)) continue;
        names.push(s.name);
      }
    }
    const out = new Map<string, RemoteValue>();
    const values = await mapLimit(names, FIND_CONCURRENCY, async (name) => {
      try {
        return await this.getValue({ key: name }, signal);
      } catch (err) {
        // Deleted between listing and reading: not part of the result.
        if (isNotFound(err)) return undefined;
        throw err;
      }
    });
    names.forEach((name, i) => {
      const v = values[i];
      if (v !== undefined) out.set(name, v);
    });
    return out;
  }

  async validate(signal?: AbortSignal): Promise<void> {
    try {
      // One listing page proves the vault answers and the credentials buy a token.
      await this.#call('GetSecrets', undefined, signal, (abortSignal) => abortable(this.#c.secrets.listPropertiesOfSecrets({ abortSignal }).byPage({ maxPageSize: 1 }).next(), abortSignal));
    } catch (err) {
      // Denied means Key Vault authenticated the caller: the store works for the objects it may read.
      if (err instanceof ProviderError && err.kind === 'AccessDenied') return;
      throw err;
    }
  }

  async close(): Promise<void> {
    this.#c.http.close();
  }
}

function version(obj: ObjectRef): { version?: string } {
  return obj.version ? { version: obj.version } : {};
}

/**
 * A paged iterator's next page, given up when the signal aborts (the pager takes its signal once,
 * at creation, so the per-page deadline is applied here).
 */
function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
