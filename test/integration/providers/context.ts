// A real ProviderContext for provider integration tests, on the local kube-apiserver: Secrets and
// ConfigMaps are read and ServiceAccount tokens issued (TokenRequest) through an admin KubeClient,
// with a SecretStore's rule that a reference without a namespace means the store's namespace.
import { KubeClient, isNotFound as isKubeNotFound } from '../../../src/kube/client.ts';
import { core } from '../../../src/kube/types.ts';
import type { KubeObject, Secret } from '../../../src/kube/types.ts';
import { ProviderError } from '../../../src/providers/provider.ts';
import type { ApiCallDetail, ProviderContext, SecretKeySelector } from '../../../src/providers/provider.ts';

export interface CallRecorder {
  calls: string[];
  details: Array<{ operation: string; detail?: ApiCallDetail | undefined }>;
  count(op: string): number;
  reset(): void;
}

export function callRecorder(): CallRecorder {
  const calls: string[] = [];
  const details: CallRecorder['details'] = [];
  return {
    calls,
    details,
    count: (op) => calls.filter((c) => c === op).length,
    reset: () => {
      calls.length = 0;
      details.length = 0;
    },
  };
}

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

/** What the context did, for assertions (e.g. one TokenRequest per login). */
export interface ContextLog {
  tokenRequests: Array<{ name: string; namespace: string; audiences: string[] | undefined }>;
  secretReads: string[];
}

export function kubeProviderContext(
  client: KubeClient,
  namespace: string,
  rec: CallRecorder = callRecorder(),
  log: ContextLog = { tokenRequests: [], secretReads: [] },
): ProviderContext & { log: ContextLog } {
  return {
    namespace,
    log,
    async readSecretKey(ref: SecretKeySelector): Promise<string> {
      const ns = ref.namespace ?? namespace;
      log.secretReads.push(`${ns}/${ref.name}/${ref.key ?? ''}`);
      const s = await client.tryGet<Secret>(core.secrets, ns, ref.name);
      if (!s) throw new ProviderError('BadCredentials', `Secret ${ns}/${ref.name} not found`);
      const v = ref.key !== undefined ? s.data?.[ref.key] : undefined;
      if (v === undefined) throw new ProviderError('BadCredentials', `Secret ${ns}/${ref.name} has no key ${JSON.stringify(ref.key ?? '')}`);
      return Buffer.from(v, 'base64').toString('utf8');
    },
    async readConfigMapKey(ref: SecretKeySelector): Promise<string> {
      const ns = ref.namespace ?? namespace;
      const cm = await client.tryGet<ConfigMap>(core.configMaps, ns, ref.name);
      if (!cm) throw new ProviderError('InvalidRequest', `ConfigMap ${ns}/${ref.name} not found`);
      const v = ref.key !== undefined ? cm.data?.[ref.key] : undefined;
      if (v === undefined) throw new ProviderError('InvalidRequest', `ConfigMap ${ns}/${ref.name} has no key ${JSON.stringify(ref.key ?? '')}`);
      return v;
    },
    async createServiceAccountToken(ref): Promise<string> {
      const ns = ref.namespace ?? namespace;
      log.tokenRequests.push({ name: ref.name, namespace: ns, audiences: ref.audiences });
      try {
        const out = await client.request<{ status?: { token?: string } }>('POST', `${KubeClient.path(core.serviceAccounts, ns, ref.name, 'token')}`, {
          body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: ref.audiences ?? [], expirationSeconds: 600 } },
        });
        const token = out.status?.token;
        if (!token) throw new ProviderError('BadCredentials', `TokenRequest for ServiceAccount ${ns}/${ref.name} returned no token`);
        return token;
      } catch (err) {
        if (err instanceof ProviderError) throw err;
        if (isKubeNotFound(err)) throw new ProviderError('BadCredentials', `ServiceAccount ${ns}/${ref.name} not found`);
        throw new ProviderError('BadCredentials', `TokenRequest for ServiceAccount ${ns}/${ref.name} failed: ${(err as Error).message}`, { cause: err });
      }
    },
    async readServiceAccountAnnotations(ref): Promise<Record<string, string>> {
      const sa = await client.tryGet<KubeObject>(core.serviceAccounts, ref.namespace ?? namespace, ref.name);
      return sa?.metadata?.annotations ?? {};
    },
    onApiCall: (operation, detail) => {
      rec.calls.push(operation);
      rec.details.push({ operation, detail });
    },
  };
}

/** Creates (or replaces) an Opaque Secret with string values. */
export async function putSecret(client: KubeClient, namespace: string, name: string, values: Record<string, string>, labels?: Record<string, string>, annotations?: Record<string, string>): Promise<void> {
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) data[k] = Buffer.from(v, 'utf8').toString('base64');
  await client.apply<Secret>(core.secrets, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace, ...(labels ? { labels } : {}), ...(annotations ? { annotations } : {}) },
    type: 'Opaque',
    data,
  });
}

/** Creates a ServiceAccount (idempotent). */
export async function putServiceAccount(client: KubeClient, namespace: string, name: string): Promise<void> {
  await client.apply<KubeObject>(core.serviceAccounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } });
}

/** Applies any object through server-side apply at its API path (RBAC objects and the like). */
export async function applyObject(client: KubeClient, rt: { group: string; version: string; plural: string; kind: string; namespaced: boolean }, obj: KubeObject): Promise<void> {
  await client.apply<KubeObject>(rt, obj);
}

export const rbac = {
  roles: { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'roles', kind: 'Role', namespaced: true },
  roleBindings: { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'rolebindings', kind: 'RoleBinding', namespaced: true },
  clusterRoleBindings: { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false },
} as const;
