// How a store authenticates: a static token (tokenSecretRef) or a login method. Credentials kept
// in Secrets are read when the client is built (they are part of the login cache key, so a rotated
// AppRole secret_id or password logs in again); service-account tokens are requested only when a
// login actually happens.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ProviderError } from '../provider.ts';
import { trimSlashes } from '../common/slashes.ts';
import type { ProviderContext, SecretKeySelector } from '../provider.ts';
import { configuredAuthMethods, defaultMountPath, unsupportedAuthMethods } from './config.ts';
import type { VaultProvider } from './config.ts';
import { vaultHttpError, classifyVault } from './errors.ts';
import type { VaultTransport } from './http.ts';
import { JsonNumber } from '../../go/json.ts';

export const IN_CLUSTER_TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/token';
/** ESO's default audience for jwt.kubernetesServiceAccountToken. */
export const DEFAULT_JWT_AUDIENCE = 'vault';

export interface LoginResult {
  token: string;
  /** Seconds the token lives; 0 means it does not expire. */
  leaseSeconds: number;
  renewable: boolean;
}

export interface StaticTokenAuth {
  kind: 'token';
  token: string;
}

export interface LoginAuth {
  kind: 'login';
  /** The ESO field name of the method, e.g. "appRole". */
  method: string;
  /** Auth mount path, e.g. "approle". */
  mountPath: string;
  /** Identity of server + namespace + method + credentials: logins are shared under one key. */
  cacheKey: string;
  /** Vault namespace the token lives in (auth.namespace, else the store's); '' for none. */
  namespace: string;
  login(transport: VaultTransport, signal?: AbortSignal): Promise<LoginResult>;
}

export type AuthPlan = StaticTokenAuth | LoginAuth;

async function readKey(ctx: ProviderContext, ref: SecretKeySelector, field: string): Promise<string> {
  try {
    return await ctx.readSecretKey(ref);
  } catch (err) {
    if (err instanceof ProviderError) {
      throw new ProviderError(err.kind === 'NotFound' ? 'BadCredentials' : err.kind, `${field}: ${err.message}`, { cause: err });
    }
    throw new ProviderError('BadCredentials', `${field}: could not read Secret ${JSON.stringify(ref.name)} key ${JSON.stringify(ref.key ?? '')}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

async function serviceAccountToken(ctx: ProviderContext, ref: { name: string; namespace?: string | undefined; audiences?: string[] | undefined }, field: string): Promise<string> {
  try {
    return await ctx.createServiceAccountToken({ name: ref.name, namespace: ref.namespace, audiences: ref.audiences });
  } catch (err) {
    if (err instanceof ProviderError) throw new ProviderError(err.kind, `${field}: ${err.message}`, { cause: err });
    throw new ProviderError('BadCredentials', `${field}: could not create a token for ServiceAccount ${JSON.stringify(ref.name)}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

function asNumber(v: unknown): number {
  if (v instanceof JsonNumber) return Number(v.raw);
  return typeof v === 'number' ? v : 0;
}

/** The `auth` block of a login (or renew) answer. */
export function loginResult(body: Record<string, unknown>, site: string): LoginResult {
  const auth = body.auth as Record<string, unknown> | null | undefined;
  const token = auth?.client_token;
  if (typeof token !== 'string' || token === '') throw new ProviderError('BadCredentials', `Vault ${site}: the answer carried no client token`);
  return { token, leaseSeconds: asNumber(auth!.lease_duration), renewable: auth!.renewable === true };
}

function hashKey(parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/**
 * Builds the auth plan of a store. `identity` is what else makes logins distinct (server, CA,
 * namespace): it enters every cache key.
 */
// eslint-disable-next-line complexity -- one branch per Vault auth method, in ESO's order; the cancellation work of issue 10 (item 3) rewrites its calls, split after that lands
export async function resolveAuth(config: VaultProvider, ctx: ProviderContext, identity: unknown[]): Promise<AuthPlan> {
  const auth = config.auth ?? {};
  const [method] = configuredAuthMethods(auth);
  const f = 'spec.provider.vault.auth';
  if (method === undefined) throw new ProviderError('InvalidRequest', `${f}: no auth method configured`);
  if (unsupportedAuthMethods.has(method)) throw new ProviderError('InvalidRequest', `${f}.${method}: is not supported by tessera`);
  const namespace = auth.namespace ?? config.namespace;

  const plan = (m: string, mountPath: string, material: unknown[], body: () => Promise<{ path: string; body: unknown; clientCert?: { cert: string; key: string } }>): LoginAuth => {
    const mount = trimSlashes(mountPath);
    return {
      kind: 'login',
      method: m,
      mountPath: mount,
      cacheKey: hashKey([...identity, namespace ?? '', m, mount, ...material]),
      namespace: namespace ?? '',
      async login(transport, signal) {
        const req = await body();
        const site = { operation: 'Login', path: req.path };
        const res = await transport.send(site, 'POST', req.path, { body: req.body, namespace: namespace ?? '', clientCert: req.clientCert, signal });
        if (res.status < 200 || res.status >= 300) throw vaultHttpError(site, res.status, res.errors, classifyVault(res.status, res.errors, true));
        return loginResult(res.body ?? {}, `${m} login`);
      },
    };
  };

  switch (method) {
    case 'tokenSecretRef': {
      const token = (await readKey(ctx, auth.tokenSecretRef!, `${f}.tokenSecretRef`)).trim();
      if (token === '') throw new ProviderError('BadCredentials', `${f}.tokenSecretRef: the referenced key is empty`);
      return { kind: 'token', token };
    }
    case 'appRole': {
      const a = auth.appRole!;
      const roleId = a.roleId ? a.roleId : (await readKey(ctx, a.roleRef!, `${f}.appRole.roleRef`)).trim();
      const secretId = (await readKey(ctx, a.secretRef, `${f}.appRole.secretRef`)).trim();
      const mount = a.path || defaultMountPath.appRole;
      return plan('appRole', mount, [roleId, secretId], async () => ({ path: `auth/${trimSlashes(mount)}/login`, body: { role_id: roleId, secret_id: secretId } }));
    }
    case 'kubernetes': {
      const k = auth.kubernetes!;
      const mount = k.mountPath || defaultMountPath.kubernetes;
      const field = `${f}.kubernetes`;
      if (k.serviceAccountRef) {
        const sa = k.serviceAccountRef;
        return plan('kubernetes', mount, [k.role, 'sa', ctx.namespace, sa.namespace ?? '', sa.name, sa.audiences ?? []], async () => ({
          path: `auth/${trimSlashes(mount)}/login`,
          body: { role: k.role, jwt: await serviceAccountToken(ctx, sa, `${field}.serviceAccountRef`) },
        }));
      }
      if (k.secretRef) {
        const jwt = (await readKey(ctx, { ...k.secretRef, key: k.secretRef.key || 'token' }, `${field}.secretRef`)).trim();
        return plan('kubernetes', mount, [k.role, 'secret', jwt], async () => ({ path: `auth/${trimSlashes(mount)}/login`, body: { role: k.role, jwt } }));
      }
      return plan('kubernetes', mount, [k.role, 'in-cluster'], async () => {
        let jwt: string;
        try {
          jwt = (await readFile(IN_CLUSTER_TOKEN_PATH, 'utf8')).trim();
        } catch (err) {
          throw new ProviderError('BadCredentials', `${field}: neither serviceAccountRef nor secretRef is set and the in-cluster token ${IN_CLUSTER_TOKEN_PATH} cannot be read`, { cause: err });
        }
        return { path: `auth/${trimSlashes(mount)}/login`, body: { role: k.role, jwt } };
      });
    }
    case 'jwt': {
      const j = auth.jwt!;
      const mount = j.path || defaultMountPath.jwt;
      const field = `${f}.jwt`;
      const role = j.role ?? '';
      const sat = j.kubernetesServiceAccountToken;
      if (sat) {
        const audiences = sat.serviceAccountRef.audiences?.length ? sat.serviceAccountRef.audiences : sat.audiences?.length ? sat.audiences : [DEFAULT_JWT_AUDIENCE];
        const sa = { ...sat.serviceAccountRef, audiences };
        return plan('jwt', mount, [role, 'sa', ctx.namespace, sa.namespace ?? '', sa.name, audiences], async () => ({
          path: `auth/${trimSlashes(mount)}/login`,
          body: { role, jwt: await serviceAccountToken(ctx, sa, `${field}.kubernetesServiceAccountToken.serviceAccountRef`) },
        }));
      }
      const jwt = (await readKey(ctx, j.secretRef!, `${field}.secretRef`)).trim();
      return plan('jwt', mount, [role, 'secret', jwt], async () => ({ path: `auth/${trimSlashes(mount)}/login`, body: { role, jwt } }));
    }
    case 'userPass':
    case 'ldap': {
      const u = auth[method]!;
      const mount = u.path || defaultMountPath[method];
      const password = await readKey(ctx, u.secretRef!, `${f}.${method}.secretRef`);
      return plan(method, mount, [u.username, password], async () => ({
        path: `auth/${trimSlashes(mount)}/login/${u.username}`,
        body: { password },
      }));
    }
    case 'cert': {
      const c = auth.cert!;
      const mount = c.path || defaultMountPath.cert;
      if (!config.server.startsWith('https:')) throw new ProviderError('InvalidRequest', `${f}.cert: needs an https server (the client certificate is presented in the TLS handshake)`);
      const cert = await readKey(ctx, c.clientCert!, `${f}.cert.clientCert`);
      const key = await readKey(ctx, c.secretRef!, `${f}.cert.secretRef`);
      // vaultRole names the cert role to log in against (ESO sends it as "name"); without it Vault
      // tries every role of the mount that trusts the certificate.
      const body = c.vaultRole ? { name: c.vaultRole } : {};
      return plan('cert', mount, [cert, key, c.vaultRole ?? ''], async () => ({ path: `auth/${trimSlashes(mount)}/login`, body, clientCert: { cert, key } }));
    }
    default:
      throw new ProviderError('InvalidRequest', `${f}.${method}: is not supported by tessera`);
  }
}
