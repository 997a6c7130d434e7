// spec.provider.kubernetes: Secrets of another namespace of this cluster, or of another cluster,
// read with the store's own credentials (bearer token, ServiceAccount token, client certificate
// or a kubeconfig in a Secret). Values are what ESO returns: a Secret's data as a JSON object of
// strings (so remoteRef.property picks one key), or its labels and annotations with
// metadataPolicy: Fetch. PushSecret writes a Secret of the remote namespace as ESO does: the
// whole source Secret, or one key (remoteRef.property) of the remote Secret.
import { readFile } from 'node:fs/promises';
import { goJsonMarshal } from '../../go/json.ts';
import { ProviderError } from '../provider.ts';
import type { FindQuery, Provider, ProviderClient, ProviderContext, PushRef, PushRequest, RemoteValue, RemoteValueRef, SecretKeySelector } from '../provider.ts';
import { isNotFound } from '../provider.ts';
import { nameRegexpFilter } from '../common/name-regexp.ts';
import { readCAProvider } from '../common/ca-provider.ts';
import { validateKubernetesConfig } from './config.ts';
import type { KubernetesProvider } from './config.ts';
import { KubeTransport } from './http.ts';
import { SharedCall } from '../../shared-call.ts';
import { KubeconfigRefused, parseTenantKubeconfig } from './kubeconfig.ts';
import type { TenantConnection } from './kubeconfig.ts';

export type { KubernetesProvider } from './config.ts';
export { validateKubernetesConfig } from './config.ts';

const field = 'spec.provider.kubernetes';
const enc = new TextEncoder();
export const IN_CLUSTER_CA_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt';
/**
 * Most Secrets one find may list. The server may be tenant-chosen: a hostile one could hand out
 * `continue` tokens forever, each page within the call deadline. Far more than one Secret holds.
 */
export const MAX_LIST_ITEMS = 100_000;
/** Pages of 500: enough for MAX_LIST_ITEMS with room for a few short pages. */
export const MAX_LIST_PAGES = 400;
/** A ServiceAccount token is requested again after this long (TokenRequest tokens live ≥ 10 min). */
const SA_TOKEN_REUSE_MS = 5 * 60_000;

interface SecretObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  type?: string;
  data?: Record<string, string>;
}

/** ESO's esutils.JSONMarshal of a map[string]string: sorted keys, no HTML escaping; nil → null. */
export function marshalStringMap(m: Record<string, string> | undefined): string {
  return goJsonMarshal(m, { escapeHTML: false });
}

/** The value of a Secret as ESO returns it without a property: {key: string(bytes)}. */
export function secretDataJson(s: SecretObject): string {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.data ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
  return marshalStringMap(out);
}

/** metadataPolicy: Fetch: {"annotations": {...}, "labels": {...}}. */
export function secretMetadataJson(s: SecretObject): string {
  return `{"annotations":${marshalStringMap(s.metadata?.annotations)},"labels":${marshalStringMap(s.metadata?.labels)}}`;
}

/** A remote key as a Secret name; "." and ".." would be resolved by URL parsing into another path. */
function secretName(key: string): string {
  if (key === '' || key.includes('/') || key === '.' || key === '..') throw new ProviderError('InvalidRequest', `Kubernetes: remote key ${JSON.stringify(key.slice(0, 253))} is not a Secret name`);
  return key;
}

/** find.tags as a label selector (equality only, as ESO's labels.SelectorFromSet). */
export function labelSelector(tags: Record<string, string>): string {
  const keyRe = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
  const valueRe = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
  return Object.keys(tags)
    .sort()
    .map((k) => {
      const v = tags[k]!;
      if (!keyRe.test(k) || !valueRe.test(v) || v.length > 63) throw new ProviderError('InvalidRequest', `find.tags: ${JSON.stringify(k)}=${JSON.stringify(v)} is not a valid label selector term`);
      return `${k}=${v}`;
    })
    .join(',');
}

async function readKey(ctx: ProviderContext, ref: SecretKeySelector, path: string): Promise<string> {
  try {
    return await ctx.readSecretKey(ref);
  } catch (err) {
    if (err instanceof ProviderError) throw new ProviderError(err.kind === 'NotFound' ? 'BadCredentials' : err.kind, `${path}: ${err.message}`, { cause: err });
    throw new ProviderError('BadCredentials', `${path}: could not read Secret ${JSON.stringify(ref.name)}`, { cause: err });
  }
}

interface Connection {
  server: string;
  ca?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
  token?: ((fresh: boolean) => Promise<string>) | undefined;
  basic?: { username: string; password: string } | undefined;
}

function inClusterServer(env: Record<string, string | undefined>): string {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  if (host) return `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return 'https://kubernetes.default.svc';
}

/**
 * server, CA and credentials from a kubeconfig held in a Secret. The kubeconfig is tenant input:
 * it goes through the tenant parser, which reads no file and runs no command (kubeconfig.ts).
 */
function fromKubeconfig(text: string): Connection {
  let c: TenantConnection;
  try {
    c = parseTenantKubeconfig(text);
  } catch (err) {
    if (err instanceof KubeconfigRefused) throw new ProviderError('InvalidRequest', `${field}.authRef: kubeconfig ${err.message}`);
    throw new ProviderError('InvalidRequest', `${field}.authRef: the referenced key is not a kubeconfig`);
  }
  const token = c.token;
  return { server: c.server, ca: c.ca, cert: c.cert, key: c.key, basic: c.basic, token: token ? async () => token : undefined };
}

async function connection(config: KubernetesProvider, ctx: ProviderContext): Promise<Connection> {
  const env = ctx.env ?? process.env;
  if (config.authRef) {
    return fromKubeconfig(await readKey(ctx, config.authRef, `${field}.authRef`));
  }
  const server = config.server?.url || inClusterServer(env);
  let ca: string | undefined;
  if (config.server?.caBundle) {
    ca = Buffer.from(config.server.caBundle, 'base64').toString('utf8');
    if (!ca.includes('-----BEGIN')) throw new ProviderError('InvalidRequest', `${field}.server.caBundle: is not a base64-encoded PEM bundle`);
  } else if (config.server?.caProvider) {
    ca = await readCAProvider(config.server.caProvider, ctx, `${field}.server.caProvider`);
  } else if (!config.server?.url) {
    ca = await readFile(IN_CLUSTER_CA_PATH, 'utf8').catch(() => undefined);
  }
  const auth = config.auth ?? {};
  if (auth.cert) {
    const cert = await readKey(ctx, auth.cert.clientCert!, `${field}.auth.cert.clientCert`);
    const key = await readKey(ctx, auth.cert.clientKey!, `${field}.auth.cert.clientKey`);
    return { server, ca, cert, key };
  }
  if (auth.token) {
    const bearer = (await readKey(ctx, auth.token.bearerToken!, `${field}.auth.token.bearerToken`)).trim();
    return { server, ca, token: async () => bearer };
  }
  if (auth.serviceAccount) {
    const sa = auth.serviceAccount;
    let cached: { token: string; at: number } | undefined;
    let inflight: Promise<string> | undefined;
    const token = async (fresh: boolean): Promise<string> => {
      if (!fresh && cached && Date.now() - cached.at < SA_TOKEN_REUSE_MS) return cached.token;
      inflight ??= ctx
        .createServiceAccountToken({ name: sa.name, namespace: sa.namespace, audiences: sa.audiences })
        .then((t) => {
          cached = { token: t, at: Date.now() };
          return t;
        })
        .catch((err: unknown) => {
          if (err instanceof ProviderError) throw new ProviderError(err.kind, `${field}.auth.serviceAccount: ${err.message}`, { cause: err });
          throw new ProviderError('BadCredentials', `${field}.auth.serviceAccount: could not create a token for ServiceAccount ${JSON.stringify(sa.name)}`, { cause: err });
        })
        .finally(() => (inflight = undefined));
      return inflight;
    };
    return { server, ca, token };
  }
  throw new ProviderError('InvalidRequest', `${field}: one of auth.cert, auth.token, auth.serviceAccount or authRef is required`);
}

export class KubernetesSecretsClient implements ProviderClient {
  private readonly t: KubeTransport;
  readonly namespace: string;
  private readonly inflight = new Map<string, SharedCall<SecretObject>>();
  coalescedReads = 0;

  constructor(transport: KubeTransport, namespace: string) {
    this.t = transport;
    this.namespace = namespace;
  }

  private secretsPath(name?: string): string {
    return `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/secrets${name !== undefined ? `/${encodeURIComponent(name)}` : ''}`;
  }

  /** One GET per Secret in flight, shared by its readers; aborted only when all of them left. */
  private getSecret(name: string, signal: AbortSignal | undefined): Promise<SecretObject> {
    const running = this.inflight.get(name);
    if (running) {
      this.coalescedReads++;
      return running.join(signal);
    }
    const call = new SharedCall((shared) =>
      this.t.request<SecretObject>({ operation: 'GetSecret', what: `secret ${JSON.stringify(`${this.namespace}/${name}`)}` }, 'GET', this.secretsPath(name), undefined, undefined, shared),
    );
    const clear = () => this.inflight.get(name) === call && this.inflight.delete(name);
    call.onAbandon(clear);
    call.promise.then(clear, clear);
    this.inflight.set(name, call);
    return call.join(signal);
  }

  async getValue(ref: RemoteValueRef, signal?: AbortSignal): Promise<RemoteValue> {
    const s = await this.getSecret(secretName(ref.key), signal);
    return { value: enc.encode(ref.metadataPolicy === 'Fetch' ? secretMetadataJson(s) : secretDataJson(s)) };
  }

  private async list(selector: string | undefined, signal: AbortSignal | undefined): Promise<SecretObject[]> {
    const items: SecretObject[] = [];
    let cont: string | undefined;
    let pages = 0;
    do {
      // Pages may be empty yet carry a continue token (label selectors filter after the read), so
      // a hostile server could page forever: the number of pages is capped too.
      if (++pages > MAX_LIST_PAGES) {
        throw new ProviderError('InvalidRequest', `Kubernetes ListSecrets in namespace ${JSON.stringify(this.namespace)}: the listing did not end after ${MAX_LIST_PAGES} pages; narrow dataFrom.find`);
      }
      const page = await this.t.request<{ items?: SecretObject[]; metadata?: { continue?: string } }>(
        { operation: 'ListSecrets', what: `secrets in namespace ${JSON.stringify(this.namespace)} (find needs the list permission)` },
        'GET',
        this.secretsPath(),
        undefined,
        { labelSelector: selector, limit: '500', continue: cont },
        signal,
      );
      for (const item of page.items ?? []) items.push(item);
      if (items.length > MAX_LIST_ITEMS) {
        throw new ProviderError('InvalidRequest', `Kubernetes ListSecrets in namespace ${JSON.stringify(this.namespace)}: find matches more than ${MAX_LIST_ITEMS} Secrets; narrow dataFrom.find`);
      }
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return items;
  }

  async findValues(query: FindQuery, signal?: AbortSignal): Promise<Map<string, RemoteValue>> {
    // As ESO: tags (a label selector) win over name; one of them is required.
    let items: SecretObject[];
    if (query.tags) {
      items = await this.list(labelSelector(query.tags), signal);
    } else if (query.name?.regexp !== undefined) {
      const matches = nameRegexpFilter(query.name.regexp);
      items = (await this.list(undefined, signal)).filter((s) => matches(s.metadata?.name ?? ''));
    } else {
      throw new ProviderError('InvalidRequest', 'Kubernetes: dataFrom.find needs name or tags');
    }
    const out = new Map<string, RemoteValue>();
    for (const s of items) if (s.metadata?.name) out.set(s.metadata.name, { value: enc.encode(secretDataJson(s)) });
    return out;
  }

  /** Whether the store's identity may `verb` secrets in the remote namespace. */
  async can(verb: 'get' | 'list' | 'watch', signal?: AbortSignal): Promise<boolean> {
    const out = await this.t.request<{ status?: { allowed?: boolean } }>(
      { operation: 'CreateSelfSubjectAccessReview', what: `${verb} secrets in namespace ${JSON.stringify(this.namespace)}` },
      'POST',
      '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { namespace: this.namespace, verb, resource: 'secrets' } } },
      undefined,
      signal,
    );
    return out.status?.allowed === true;
  }

  /** The credentials work and may get Secrets in remoteNamespace (find also needs list). */
  // ---- PushSecret (ESO's behaviour: no ownership mark; the store's credentials bound what it may write) ----

  private async existing(name: string, signal: AbortSignal | undefined): Promise<SecretObject | undefined> {
    try {
      return await this.t.request<SecretObject>({ operation: 'GetSecret', what: `secret ${JSON.stringify(`${this.namespace}/${name}`)}` }, 'GET', this.secretsPath(name), undefined, undefined, signal);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private async write(method: 'POST' | 'PUT' | 'DELETE', name: string, body: SecretObject | undefined, signal: AbortSignal | undefined): Promise<void> {
    const operation = method === 'POST' ? 'CreateSecret' : method === 'PUT' ? 'UpdateSecret' : 'DeleteSecret';
    await this.t.request({ operation, what: `secret ${JSON.stringify(`${this.namespace}/${name}`)}` }, method, method === 'POST' ? this.secretsPath() : this.secretsPath(name), body, undefined, signal);
  }

  async pushValue(req: PushRequest, signal?: AbortSignal): Promise<void> {
    const name = secretName(req.ref.remoteKey);
    const property = req.ref.property ?? '';
    if (property === '' && !req.wholeSecret) {
      throw new ProviderError('InvalidRequest', `Kubernetes ${JSON.stringify(name)}: requires property in RemoteRef to push secret value if secret key is defined`);
    }
    const current = await this.existing(name, signal);
    const data: Record<string, string> = property === ''
      ? Object.fromEntries([...req.wholeSecret!].map(([k, v]) => [k, Buffer.from(v).toString('base64')]))
      : { ...(current?.data ?? {}), [property]: Buffer.from(req.value).toString('base64') };
    if (!current) {
      await this.write('POST', name, { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: this.namespace }, type: 'Opaque', data }, signal);
      return;
    }
    if (JSON.stringify(Object.entries(current.data ?? {}).sort()) === JSON.stringify(Object.entries(data).sort())) return;
    await this.write('PUT', name, { ...current, data }, signal);
  }

  async deleteValue(ref: PushRef, signal?: AbortSignal): Promise<void> {
    const name = secretName(ref.remoteKey);
    const current = await this.existing(name, signal);
    if (!current) return;
    const property = ref.property ?? '';
    if (property !== '') {
      if (!Object.hasOwn(current.data ?? {}, property)) return;
      if (Object.keys(current.data ?? {}).length > 1) {
        const data = { ...current.data };
        delete data[property];
        await this.write('PUT', name, { ...current, data }, signal);
        return;
      }
    }
    try {
      await this.write('DELETE', name, undefined, signal);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async remoteExists(ref: PushRef, signal?: AbortSignal): Promise<boolean> {
    const current = await this.existing(secretName(ref.remoteKey), signal);
    if (!current) return false;
    return ref.property ? Object.hasOwn(current.data ?? {}, ref.property) : true;
  }

  async validate(signal?: AbortSignal): Promise<void> {
    if (!(await this.can('get', signal))) {
      throw new ProviderError('AccessDenied', `Kubernetes: the store's credentials may not get secrets in namespace ${JSON.stringify(this.namespace)} (missing permission: get secrets)`);
    }
  }

  async close(): Promise<void> {
    this.t.close();
  }
}

export async function newKubernetesClient(config: KubernetesProvider, ctx: ProviderContext): Promise<KubernetesSecretsClient> {
  const problems = validateKubernetesConfig(config);
  if (problems.length > 0) throw new ProviderError('InvalidRequest', problems.join('; '));
  const conn = await connection(config, ctx);
  const transport = new KubeTransport({ ...conn, deadlineMs: ctx.callDeadlineMs, onApiCall: ctx.onApiCall, env: ctx.env });
  return new KubernetesSecretsClient(transport, config.remoteNamespace || 'default');
}

export const kubernetesProvider: Provider<KubernetesProvider> = {
  name: 'kubernetes',
  validateConfig: (config) => validateKubernetesConfig(config),
  // status.capabilities as ESO 2.9 reports it for this provider: Secrets are read and written.
  capabilities: () => 'ReadWrite',
  newClient: (config, ctx): Promise<ProviderClient> => newKubernetesClient(config, ctx),
};
