// Shared helpers of the integration tier: an admin client for the local control plane,
// throw-away namespaces, and polling.
import { after } from 'node:test';
import { randomBytes } from 'node:crypto';
import { KubeClient } from '../../src/kube/client.ts';
import { core, type KubeObject } from '../../src/kube/types.ts';
import { externalSecrets } from '../../src/controllers/resources.ts';
import { waitFor } from '../peers/operator.ts';
import { ensurePeers, type PeerName, type PeersEnv } from '../peers/index.ts';

let env: PeersEnv | undefined;

// Cleanup is registered once, at the top level of the importing test file: an after() inside a
// before() hook would run as soon as that hook ends.
const cleanups: Array<() => Promise<unknown> | unknown> = [];
after(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Runs `fn` when the test file ends (safe to call from hooks and tests alike). */
export function onCleanup(fn: () => Promise<unknown> | unknown): void {
  cleanups.push(fn);
}

/** Starts (or reuses) the peers this test file needs. Throws, never skips, when one is missing. */
export async function peers(names: PeerName[] = ['etcd', 'kube-apiserver', 'kube-controller-manager']): Promise<PeersEnv> {
  env = await ensurePeers(names);
  return env;
}

export async function adminClient(fieldManager = 'tessera-test'): Promise<KubeClient> {
  const e = env ?? (await peers());
  const c = await KubeClient.create({ kubeconfig: e.KUBECONFIG, qps: 500, burst: 1000, fieldManager });
  cleanups.push(() => c.close());
  return c;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

/** Creates a namespace that is deleted when the test file ends. */
export async function freshNamespace(client: KubeClient, prefix = 'it'): Promise<string> {
  const name = uniqueName(prefix);
  await client.create(core.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  cleanups.push(() => client.delete(core.namespaces, undefined, name).catch(() => undefined));
  return name;
}

export { waitFor };

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A Secret's data, base64-decoded. */
export function decodeSecret(s: { data?: Record<string, string> } | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(s?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

type ReadyCondition = { type: string; status: string; reason?: string; message?: string };

/** Waits until the ExternalSecret's Ready condition has `status` and its message matches. */
export async function waitReady(client: KubeClient, ns: string, name: string, status: 'True' | 'False', match = /./, timeoutMs = 30_000): Promise<ReadyCondition> {
  return waitFor(`ExternalSecret ${ns}/${name} Ready=${status} ${match}`, async () => {
    const es = await client.tryGet<KubeObject & { status?: { conditions?: ReadyCondition[] } }>(externalSecrets, ns, name);
    const c = es?.status?.conditions?.find((x) => x.type === 'Ready');
    return c && c.status === status && match.test(c.message ?? '') ? c : undefined;
  }, timeoutMs);
}
