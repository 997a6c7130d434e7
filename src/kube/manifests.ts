// Applying YAML manifests with server-side apply, resolving kinds through API discovery
// (what `kubectl apply --server-side` does), for the demo, tests and tooling.
import { parseAllDocuments } from 'yaml';
import type { KubeClient } from './client.ts';
import type { KubeObject, ResourceType } from './types.ts';

interface ApiResourceList {
  resources: Array<{ name: string; kind: string; namespaced: boolean }>;
}

const discoveryCache = new WeakMap<KubeClient, Map<string, ApiResourceList>>();

/** The collection serving apiVersion/kind, found through discovery. */
export async function resourceFor(client: KubeClient, apiVersion: string, kind: string): Promise<ResourceType> {
  let cache = discoveryCache.get(client);
  if (!cache) discoveryCache.set(client, (cache = new Map()));
  let list = cache.get(apiVersion);
  if (!list) {
    const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    list = await client.request<ApiResourceList>('GET', path);
    cache.set(apiVersion, list);
  }
  const r = list.resources.find((x) => x.kind === kind && !x.name.includes('/'));
  if (!r) throw new Error(`${apiVersion} has no kind ${kind}`);
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  return { group: group!, version: version!, plural: r.name, kind, namespaced: r.namespaced };
}

/** Forget discovery results (after installing CRDs). */
export function resetDiscovery(client: KubeClient): void {
  discoveryCache.delete(client);
}

export function parseManifests(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length) throw new Error(`invalid YAML: ${d.errors[0]!.message}`);
      return d.toJS() as KubeObject | null;
    })
    .filter((o): o is KubeObject => !!o && typeof o === 'object' && !!o.kind);
}

/** Server-side applies each object in order; returns what the server stored. */
export async function applyManifests(client: KubeClient, objects: KubeObject[], opts: { namespace?: string } = {}): Promise<KubeObject[]> {
  const out: KubeObject[] = [];
  for (const obj of objects) {
    const rt = await resourceFor(client, obj.apiVersion!, obj.kind!);
    const o = structuredClone(obj);
    if (rt.namespaced && !o.metadata?.namespace) o.metadata = { ...o.metadata, namespace: opts.namespace ?? 'default' };
    out.push(await client.apply(rt, o));
    if (o.kind === 'CustomResourceDefinition') resetDiscovery(client);
  }
  return out;
}
