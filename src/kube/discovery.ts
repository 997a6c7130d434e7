// Resolving an apiVersion and kind to the collection that serves it, through the apiserver's
// discovery (GET /api/v1, /apis/<group>/<version>), for objects whose kind is only known at run
// time (generic targets: spec.target.manifest). Why a cache of its own, with bounds: the
// apiVersion and kind come from a tenant's manifest, so a tenant can name as many group versions
// as it likes, most of them nonexistent. The cache holds at most `maxEntries` group versions
// (least recently used first out), keeps an answer for `ttlMs`, and asks the apiserver again on a
// miss (a kind installed since, a CRD just created) at most once per `missRefreshMs` per group
// version, so that unknown kinds cost one discovery read each per interval, not one per reconcile.
// The apiVersion is checked before it becomes part of a URL path.
import type { ResourceType } from './types.ts';
import { isNotFound } from './client.ts';
import { SharedCall } from '../shared-call.ts';

/** The one client call discovery makes (KubeClient has it). */
export interface DiscoveryTransport {
  request<T>(method: string, path: string, opts?: { signal?: AbortSignal | undefined }): Promise<T>;
}

export type KindResolution =
  | { found: ResourceType }
  /** The group version is not served, or it has no such kind. */
  | { missing: 'groupVersion' | 'kind' }
  /** apiVersion or kind is not a well-formed name (never sent to the apiserver). */
  | { invalid: 'apiVersion' | 'kind' };

interface ApiResourceList {
  resources?: Array<{ name?: unknown; kind?: unknown; namespaced?: unknown }>;
}

interface Entry {
  /** undefined: the group version is not served. */
  kinds: Map<string, { plural: string; namespaced: boolean }> | undefined;
  fetchedAt: number;
}

export interface DiscoveryOptions {
  maxEntries?: number;
  ttlMs?: number;
  missRefreshMs?: number;
  now?: () => number;
}

// A DNS subdomain group (253 chars at most) and a version such as v1, v1beta2, v2alpha1.
const GROUP = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const VERSION = /^v[0-9]+((alpha|beta)[0-9]+)?$/;
const KIND = /^[A-Za-z][A-Za-z0-9]{0,62}$/;

/** group and version of a well-formed apiVersion ("v1", "apps/v1"), or undefined. */
export function parseApiVersion(apiVersion: string): { group: string; version: string } | undefined {
  if (apiVersion.length > 300) return undefined;
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  if (group !== '' && (group.length > 253 || !GROUP.test(group))) return undefined;
  if (!VERSION.test(version)) return undefined;
  return { group, version };
}

export function isValidKindName(kind: string): boolean {
  return KIND.test(kind);
}

export class Discovery {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, SharedCall<Entry>>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly missRefreshMs: number;
  private readonly now: () => number;
  private readonly transport: DiscoveryTransport;

  constructor(transport: DiscoveryTransport, opts: DiscoveryOptions = {}) {
    this.transport = transport;
    this.maxEntries = Math.max(1, opts.maxEntries ?? 128);
    this.ttlMs = opts.ttlMs ?? 5 * 60_000;
    this.missRefreshMs = opts.missRefreshMs ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /** The collection serving apiVersion/kind, or why there is none. */
  async resolve(apiVersion: string, kind: string, signal?: AbortSignal): Promise<KindResolution> {
    const gv = parseApiVersion(apiVersion);
    if (!gv) return { invalid: 'apiVersion' };
    if (!isValidKindName(kind)) return { invalid: 'kind' };
    const key = gv.group ? `${gv.group}/${gv.version}` : gv.version;
    let entry = this.entries.get(key);
    const age = entry ? this.now() - entry.fetchedAt : Infinity;
    const hit = entry?.kinds?.get(kind);
    // A fresh hit is answered from the cache; a miss is asked again once the miss interval passed.
    if (!entry || age >= this.ttlMs || (!hit && age >= this.missRefreshMs)) entry = await this.fetch(key, gv.group, signal);
    else this.touch(key, entry);
    if (!entry.kinds) return { missing: 'groupVersion' };
    const r = entry.kinds.get(kind);
    if (!r) return { missing: 'kind' };
    return { found: { group: gv.group, version: gv.version, plural: r.plural, kind, namespaced: r.namespaced } };
  }

  /** Group versions held now (for tests and bounds). */
  get size(): number {
    return this.entries.size;
  }

  private touch(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
  }

  /**
   * One discovery read per group version at a time; concurrent reconciles share it. Each waits
   * under its own signal: the first caller's deadline or cancellation ends only its own wait, and
   * the read is aborted only when nobody waits for it any more.
   */
  private fetch(key: string, group: string, signal: AbortSignal | undefined): Promise<Entry> {
    let call = this.inflight.get(key);
    if (!call) {
      const c = new SharedCall<Entry>((s) => this.read(key, group, s));
      const clear = () => this.inflight.get(key) === c && this.inflight.delete(key);
      c.onAbandon(clear);
      c.promise.then(clear, clear);
      this.inflight.set(key, c);
      call = c;
    }
    return call.join(signal);
  }

  private async read(key: string, group: string, signal: AbortSignal): Promise<Entry> {
    let kinds: Entry['kinds'];
    try {
      const list = await this.transport.request<ApiResourceList>('GET', group ? `/apis/${key}` : `/api/${key}`, { signal });
      kinds = new Map();
      for (const r of list.resources ?? []) {
        // Subresources (deployments/scale) share their parent's kind; only collections count.
        if (typeof r.name !== 'string' || typeof r.kind !== 'string' || r.name.includes('/')) continue;
        kinds.set(r.kind, { plural: r.name, namespaced: r.namespaced === true });
      }
    } catch (e) {
      if (!isNotFound(e)) throw e;
      kinds = undefined;
    }
    const entry: Entry = { kinds, fetchedAt: this.now() };
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return entry;
  }
}
