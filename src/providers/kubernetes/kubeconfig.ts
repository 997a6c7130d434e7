// The parser of kubeconfigs that stores hand us (spec.provider.kubernetes.authRef). Such a
// kubeconfig is tenant-written: it must never name a file, a command or a credential of the
// controller. A general kubeconfig loader (client-node's, client-go's) resolves `token-file`,
// `client-key`, `certificate-authority` against the controller's own filesystem and runs `exec`
// and `auth-provider` plugins: with one, a tenant made the controller read its own
// service-account token and send it to a server of the tenant's choice. This parser cannot do
// any of that: it does no I/O at all, it accepts inline data only, and it refuses every field it
// does not know, so a file field added to kubeconfigs later is refused too. Each refusal names
// the field; no message quotes a value.
import { parse } from 'yaml';

/** Where a tenant kubeconfig's connection points, with inline credentials only. */
export interface TenantConnection {
  server: string;
  ca?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
  token?: string | undefined;
  basic?: { username: string; password: string } | undefined;
}

/** A kubeconfig refused; `field` is the path inside the kubeconfig, e.g. users[0].user.token-file. */
export class KubeconfigRefused extends Error {
  readonly field: string;
  constructor(field: string, why: string) {
    super(`${field}${field ? ': ' : ''}${why}`);
    this.name = 'KubeconfigRefused';
    this.field = field;
  }
}

const INLINE_HINT = 'a kubeconfig in a store must carry its credentials inline (token, client-certificate-data, client-key-data, username and password; certificate-authority-data for the CA)';

/** Fields that name a file on the machine that loads the kubeconfig. */
const fileFields: Record<'user' | 'cluster', ReadonlySet<string>> = {
  user: new Set(['token-file', 'tokenFile', 'client-certificate', 'client-key']),
  cluster: new Set(['certificate-authority']),
};
/** Fields that run a program or call a plugin of the loading machine. */
const commandFields: ReadonlySet<string> = new Set(['exec', 'auth-provider']);
/** Known fields this client does not implement: refused rather than silently ignored. */
const unsupported: Record<'user' | 'cluster', Record<string, string>> = {
  user: {
    as: 'impersonation is not supported',
    'as-uid': 'impersonation is not supported',
    'as-groups': 'impersonation is not supported',
    'as-user-extra': 'impersonation is not supported',
  },
  cluster: {
    'proxy-url': "proxies are not supported in a store's kubeconfig; the operator's HTTPS_PROXY, HTTP_PROXY and NO_PROXY apply",
    'tls-server-name': 'is not supported; use a server URL whose host name is in the certificate',
  },
};
/** Inline fields that are used (or harmless: extensions are metadata). */
const accepted: Record<'user' | 'cluster' | 'context', ReadonlySet<string>> = {
  user: new Set(['token', 'client-certificate-data', 'client-key-data', 'username', 'password', 'extensions']),
  cluster: new Set(['server', 'certificate-authority-data', 'insecure-skip-tls-verify', 'disable-compression', 'extensions']),
  context: new Set(['cluster', 'user', 'namespace', 'extensions']),
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A field name for a message: YAML keys are tenant-written, so quoted and cut short. */
function keyName(k: string): string {
  return /^[A-Za-z0-9_-]{1,64}$/.test(k) ? k : JSON.stringify(k.slice(0, 64));
}

function checkEntry(kind: 'user' | 'cluster', at: string, body: Record<string, unknown>): void {
  for (const k of Object.keys(body)) {
    const f = `${at}.${keyName(k)}`;
    if (fileFields[kind].has(k)) throw new KubeconfigRefused(f, `names a file on the controller's filesystem, which a store may not use; ${INLINE_HINT}`);
    if (kind === 'user' && commandFields.has(k)) throw new KubeconfigRefused(f, `runs a command or plugin in the controller, which a store may not use; ${INLINE_HINT}`);
    const why = unsupported[kind][k];
    if (why !== undefined) throw new KubeconfigRefused(f, why);
    if (!accepted[kind].has(k)) throw new KubeconfigRefused(f, `unknown field; only inline fields are accepted (${[...accepted[kind]].join(', ')})`);
  }
}

function named(list: unknown, listName: string, inner: 'user' | 'cluster' | 'context'): Map<string, { at: string; body: Record<string, unknown> }> {
  const out = new Map<string, { at: string; body: Record<string, unknown> }>();
  if (list === undefined || list === null) return out;
  if (!Array.isArray(list)) throw new KubeconfigRefused(listName, 'must be a list');
  list.forEach((entry, i) => {
    const at = `${listName}[${i}]`;
    if (!isObject(entry)) throw new KubeconfigRefused(at, 'must be an object with name and ' + inner);
    if (typeof entry.name !== 'string' || entry.name === '') throw new KubeconfigRefused(`${at}.name`, 'is required');
    const body = entry[inner] ?? {};
    if (!isObject(body)) throw new KubeconfigRefused(`${at}.${inner}`, 'must be an object');
    if (inner === 'context') {
      for (const k of Object.keys(body)) if (!accepted.context.has(k)) throw new KubeconfigRefused(`${at}.context.${keyName(k)}`, 'unknown field');
    } else {
      checkEntry(inner, `${at}.${inner}`, body);
    }
    out.set(entry.name, { at: `${at}.${inner}`, body });
  });
  return out;
}

function str(body: Record<string, unknown>, at: string, k: string): string | undefined {
  const v = body[k];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new KubeconfigRefused(`${at}.${k}`, 'must be a string');
  return v;
}

function pemData(body: Record<string, unknown>, at: string, k: string): string | undefined {
  const v = str(body, at, k);
  if (v === undefined) return undefined;
  if (!/^[A-Za-z0-9+/=\s]+$/.test(v)) throw new KubeconfigRefused(`${at}.${k}`, 'must be base64-encoded PEM');
  const pem = Buffer.from(v, 'base64').toString('utf8');
  if (!pem.includes('-----BEGIN')) throw new KubeconfigRefused(`${at}.${k}`, 'must be base64-encoded PEM');
  return pem;
}

/**
 * Parses a tenant's kubeconfig. Every user and cluster entry is checked (not only the current
 * one), so a refused field anywhere is reported. Throws KubeconfigRefused; never reads a file.
 */
export function parseTenantKubeconfig(text: string): TenantConnection {
  let doc: unknown;
  try {
    // No anchors or aliases beyond a few: a tenant's YAML may be built to expand without end.
    doc = parse(text, { maxAliasCount: 50, prettyErrors: false });
  } catch {
    // The parser's message can quote the text, which holds credentials: it is not kept.
    throw new KubeconfigRefused('', 'the referenced key is not a kubeconfig (YAML does not parse)');
  }
  if (!isObject(doc)) throw new KubeconfigRefused('', 'the referenced key is not a kubeconfig (not a YAML mapping)');
  const clusters = named(doc.clusters, 'clusters', 'cluster');
  const users = named(doc.users, 'users', 'user');
  const contexts = named(doc.contexts, 'contexts', 'context');
  const current = doc['current-context'];
  if (typeof current !== 'string' || current === '') throw new KubeconfigRefused('current-context', 'is required');
  const ctx = contexts.get(current);
  if (!ctx) throw new KubeconfigRefused('current-context', 'names no entry of contexts');
  const clusterName = ctx.body.cluster;
  const cluster = typeof clusterName === 'string' ? clusters.get(clusterName) : undefined;
  if (!cluster) throw new KubeconfigRefused(`${ctx.at}.cluster`, 'names no entry of clusters');
  const server = str(cluster.body, cluster.at, 'server');
  if (server === undefined) throw new KubeconfigRefused(`${cluster.at}.server`, 'is required');
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new KubeconfigRefused(`${cluster.at}.server`, 'is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new KubeconfigRefused(`${cluster.at}.server`, 'must be an https URL');
  if (/[?#]/.test(server)) throw new KubeconfigRefused(`${cluster.at}.server`, 'must not contain a query or fragment');
  if (cluster.body['insecure-skip-tls-verify'] === true) throw new KubeconfigRefused(`${cluster.at}.insecure-skip-tls-verify`, 'is not supported; give certificate-authority-data');
  const out: TenantConnection = { server, ca: pemData(cluster.body, cluster.at, 'certificate-authority-data') };
  const userName = ctx.body.user;
  if (userName === undefined || userName === '') return out;
  const user = typeof userName === 'string' ? users.get(userName) : undefined;
  if (!user) throw new KubeconfigRefused(`${ctx.at}.user`, 'names no entry of users');
  out.cert = pemData(user.body, user.at, 'client-certificate-data');
  out.key = pemData(user.body, user.at, 'client-key-data');
  if ((out.cert === undefined) !== (out.key === undefined)) throw new KubeconfigRefused(user.at, 'client-certificate-data and client-key-data must be given together');
  out.token = str(user.body, user.at, 'token')?.trim();
  const username = str(user.body, user.at, 'username');
  const password = str(user.body, user.at, 'password');
  if ((username === undefined) !== (password === undefined)) throw new KubeconfigRefused(user.at, 'username and password must be given together');
  if (username !== undefined && password !== undefined) out.basic = { username, password };
  return out;
}
