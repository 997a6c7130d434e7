// Where the API server is and how to authenticate: a kubeconfig file or the in-cluster service
// account. The common cases (certificates, tokens, token files, basic auth) are read here
// directly; kubeconfigs whose user runs an `exec` plugin or an `auth-provider` are handed to
// @kubernetes/client-node, loaded only then (it costs ~90 MB of memory, a third of our budget).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { parseProxyUrl, proxyConfigFromEnv, proxyForUrl } from '../http-proxy.ts';

export interface ClusterAuth {
  server: string;
  ca?: Buffer | undefined;
  cert?: Buffer | undefined;
  key?: Buffer | undefined;
  rejectUnauthorized: boolean;
  servername?: string | undefined;
  /** The proxy to the server: the kubeconfig's proxy-url, else HTTPS_PROXY unless NO_PROXY exempts the server (as client-go). */
  proxy?: URL | undefined;
  /** Per-request headers (Authorization), refreshed as tokens rotate. */
  headers(): Promise<Record<string, string>>;
}

interface NamedCluster {
  name: string;
  cluster: {
    server: string;
    'certificate-authority'?: string;
    'certificate-authority-data'?: string;
    'insecure-skip-tls-verify'?: boolean;
    'tls-server-name'?: string;
    'proxy-url'?: string;
  };
}

interface NamedUser {
  name: string;
  user: {
    'client-certificate'?: string;
    'client-certificate-data'?: string;
    'client-key'?: string;
    'client-key-data'?: string;
    token?: string;
    tokenFile?: string;
    username?: string;
    password?: string;
    exec?: unknown;
    'auth-provider'?: unknown;
  };
}

interface KubeconfigFile {
  'current-context'?: string;
  contexts?: Array<{ name: string; context: { cluster: string; user: string } }>;
  clusters?: NamedCluster[];
  users?: NamedUser[];
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** A token read from a file, re-read every minute (projected tokens rotate). */
function fileToken(file: string): () => Promise<Record<string, string>> {
  let token = '';
  let readAt = 0;
  return async () => {
    if (!token || Date.now() - readAt > 60_000) {
      token = readFileSync(file, 'utf8').trim();
      readAt = Date.now();
    }
    return { authorization: `Bearer ${token}` };
  };
}

export function inClusterAuth(): ClusterAuth {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const port = process.env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) throw new Error('not running in a cluster (KUBERNETES_SERVICE_HOST/PORT unset) and no --kubeconfig given');
  const h = host.includes(':') ? `[${host}]` : host;
  return { server: `https://${h}:${port}`, ca: readFileSync(path.join(SA_DIR, 'ca.crt')), rejectUnauthorized: true, headers: fileToken(path.join(SA_DIR, 'token')) };
}

export async function kubeconfigAuth(file: string): Promise<ClusterAuth> {
  const text = readFileSync(file, 'utf8');
  const kc = parse(text) as KubeconfigFile;
  const dir = path.dirname(path.resolve(file));
  const ctxName = kc['current-context'];
  const ctx = kc.contexts?.find((c) => c.name === ctxName)?.context;
  if (!ctx) throw new Error(`${file}: current-context ${JSON.stringify(ctxName ?? '')} not found`);
  const cluster = kc.clusters?.find((c) => c.name === ctx.cluster)?.cluster;
  if (!cluster?.server) throw new Error(`${file}: cluster ${JSON.stringify(ctx.cluster)} not found or has no server`);
  const user = kc.users?.find((u) => u.name === ctx.user)?.user ?? {};
  if (user.exec || user['auth-provider']) return clientNodeAuth(file, cluster);
  const bytes = (data: string | undefined, p: string | undefined) =>
    data ? Buffer.from(data, 'base64') : p ? readFileSync(path.resolve(dir, p)) : undefined;
  let headers: () => Promise<Record<string, string>> = async () => ({});
  if (user.token) {
    const t = user.token;
    headers = async () => ({ authorization: `Bearer ${t}` });
  } else if (user.tokenFile) {
    headers = fileToken(path.resolve(dir, user.tokenFile));
  } else if (user.username !== undefined) {
    const basic = Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64');
    headers = async () => ({ authorization: `Basic ${basic}` });
  }
  return {
    server: cluster.server,
    ca: bytes(cluster['certificate-authority-data'], cluster['certificate-authority']),
    cert: bytes(user['client-certificate-data'], user['client-certificate']),
    key: bytes(user['client-key-data'], user['client-key']),
    rejectUnauthorized: !cluster['insecure-skip-tls-verify'],
    servername: cluster['tls-server-name'],
    proxy: clusterProxy(file, cluster),
    headers,
  };
}

/** exec plugins and auth-providers: delegated to @kubernetes/client-node. */
async function clientNodeAuth(file: string, cluster: NamedCluster['cluster']): Promise<ClusterAuth> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  const tls: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean; headers?: Record<string, string> } = {};
  await kc.applyToHTTPSOptions(tls as never);
  return {
    server: cluster.server,
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    rejectUnauthorized: tls.rejectUnauthorized ?? true,
    servername: cluster['tls-server-name'],
    proxy: clusterProxy(file, cluster),
    headers: async () => {
      const o: { headers?: Record<string, string> } = { headers: {} };
      await kc.applyToHTTPSOptions(o as never);
      return { ...(o.headers ?? {}) };
    },
  };
}

export async function loadClusterAuth(kubeconfig: string | undefined, env: Record<string, string | undefined> = process.env): Promise<ClusterAuth> {
  const auth = kubeconfig ? await kubeconfigAuth(kubeconfig) : inClusterAuth();
  // client-go's rule: a cluster's proxy-url is used for every request to it; without one, the
  // environment's proxy settings apply (in-cluster too: the service IP must be in NO_PROXY, which
  // OpenShift's cluster-wide proxy arranges with the service network's CIDR).
  return { ...auth, proxy: auth.proxy ?? proxyForUrl(proxyConfigFromEnv(env), new URL(auth.server)) };
}

/** A cluster's proxy-url, checked; the error names the file and the field, not the value (it may hold credentials). */
function clusterProxy(file: string, cluster: NamedCluster['cluster']): URL | undefined {
  const value = cluster['proxy-url'];
  if (value === undefined || value === '') return undefined;
  try {
    return parseProxyUrl(String(value), 'proxy-url');
  } catch (e) {
    throw new Error(`${file}: cluster ${(e as Error).message}`);
  }
}
