// ExternalSecrets synced from OpenBao (Vault API) by the operator process, with token auth and
// with Kubernetes auth end to end: the operator issues a ServiceAccount token (TokenRequest),
// bao verifies it with a TokenReview on our kube-apiserver, and a real policy limits the reads.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { KubeClient } from '../../src/kube/client.ts';
import { core, type KubeObject, type Secret } from '../../src/kube/types.ts';
import { externalSecrets, secretStores } from '../../src/controllers/resources.ts';
import { stateDir, type PeersEnv } from '../peers/index.ts';
import { adminClient, decodeSecret, freshNamespace, peers, waitReady } from './helpers.ts';
import { installTessera, startOperator } from './operator.ts';

const run = Math.random().toString(36).slice(2, 7);
let env: PeersEnv;
let admin: KubeClient;

async function bao(method: string, p: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${env.VAULT_ADDR}/v1/${p}`, {
    method,
    headers: { 'x-vault-token': env.VAULT_TOKEN, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const t = await res.text();
  if (!res.ok) throw new Error(`bao ${method} ${p}: ${res.status} ${t}`);
  return t ? (JSON.parse(t) as Record<string, unknown>) : {};
}



before(async () => {
  env = await peers(['etcd', 'kube-apiserver', 'kube-controller-manager', 'bao']);
  admin = await adminClient();
  await installTessera(admin);
  await startOperator(admin, env);
  await bao('POST', `secret/data/${run}/db`, { data: { username: 'app', password: 'vault-pw', nested: { host: 'db.internal' } } });
  await bao('POST', `secret/data/${run}-private/x`, { data: { secret: `private-${run}-value` } });
  await bao('PUT', `sys/policies/acl/${run}-read`, { policy: `path "secret/data/${run}/*" { capabilities = ["read"] }` });
});

describe('Vault through the operator', () => {
  it('token auth: properties, dataFrom extract, and a policy denial reported clearly', async () => {
    const ns = await freshNamespace(admin, 'vault-token');
    const limited = (await bao('POST', 'auth/token/create', { policies: [`${run}-read`], ttl: '1h' })) as { auth: { client_token: string } };
    await admin.create(core.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'vault-token', namespace: ns }, stringData: { token: limited.auth.client_token } } as Secret);
    await admin.create(secretStores, {
      apiVersion: 'external-secrets.io/v1',
      kind: 'SecretStore',
      metadata: { name: 'vault', namespace: ns },
      spec: { provider: { vault: { server: env.VAULT_ADDR, path: 'secret', version: 'v2', auth: { tokenSecretRef: { name: 'vault-token', key: 'token' } } } } },
    } as KubeObject);
    await admin.create(externalSecrets, {
      apiVersion: 'external-secrets.io/v1',
      kind: 'ExternalSecret',
      metadata: { name: 'db', namespace: ns },
      spec: {
        secretStoreRef: { name: 'vault' },
        data: [{ secretKey: 'host', remoteRef: { key: `${run}/db`, property: 'nested.host' } }],
        dataFrom: [{ extract: { key: `${run}/db` } }],
      },
    } as KubeObject);
    await waitReady(admin, ns, 'db', 'True');
    assert.deepEqual(decodeSecret(await admin.get<Secret>(core.secrets, ns, 'db')), { host: 'db.internal', username: 'app', password: 'vault-pw', nested: '{"host":"db.internal"}' });
    await admin.create(externalSecrets, {
      apiVersion: 'external-secrets.io/v1',
      kind: 'ExternalSecret',
      metadata: { name: 'denied', namespace: ns },
      spec: { secretStoreRef: { name: 'vault' }, data: [{ secretKey: 's', remoteRef: { key: `${run}-private/x` } }] },
    } as KubeObject);
    const c = await waitReady(admin, ns, 'denied', 'False', /permission denied|denied/i);
    assert.ok(!(c.message ?? '').includes(`private-${run}-value`));
    assert.equal(await admin.tryGet(core.secrets, ns, 'denied'), undefined);
  });

  it('kubernetes auth end to end: TokenRequest by the operator, TokenReview by bao', async () => {
    const ns = await freshNamespace(admin, 'vault-k8s');
    const mount = `k8s-op-${run}`;
    // bao's reviewer: a ServiceAccount allowed to call TokenReview.
    await admin.create(core.serviceAccounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'reviewer', namespace: ns } });
    await admin.create(core.serviceAccounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'app', namespace: ns } });
    await admin.apply({ group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false }, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: `${ns}-reviewer` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' },
      subjects: [{ kind: 'ServiceAccount', name: 'reviewer', namespace: ns }],
    } as KubeObject);
    const reviewer = await admin.request<{ status: { token: string } }>('POST', `/api/v1/namespaces/${ns}/serviceaccounts/reviewer/token`, {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
    });
    await bao('POST', `sys/auth/${mount}`, { type: 'kubernetes' });
    await bao('POST', `auth/${mount}/config`, {
      kubernetes_host: env.KUBE_APISERVER_URL,
      kubernetes_ca_cert: readFileSync(path.join(stateDir, 'pki', 'ca.crt'), 'utf8'),
      token_reviewer_jwt: reviewer.status.token,
      disable_local_ca_jwt: true,
    });
    await bao('POST', `auth/${mount}/role/app`, { bound_service_account_names: ['app'], bound_service_account_namespaces: [ns], token_policies: [`${run}-read`], token_ttl: '1h' });
    await admin.create(secretStores, {
      apiVersion: 'external-secrets.io/v1',
      kind: 'SecretStore',
      metadata: { name: 'vault', namespace: ns },
      spec: { provider: { vault: { server: env.VAULT_ADDR, path: 'secret', version: 'v2', auth: { kubernetes: { mountPath: mount, role: 'app', serviceAccountRef: { name: 'app' } } } } } },
    } as KubeObject);
    await admin.create(externalSecrets, {
      apiVersion: 'external-secrets.io/v1',
      kind: 'ExternalSecret',
      metadata: { name: 'db', namespace: ns },
      spec: { secretStoreRef: { name: 'vault' }, data: [{ secretKey: 'password', remoteRef: { key: `${run}/db`, property: 'password' } }] },
    } as KubeObject);
    // RBAC for the reviewer reaches the authorizer a moment after it is written; the operator retries.
    await waitReady(admin, ns, 'db', 'True');
    assert.deepEqual(decodeSecret(await admin.get<Secret>(core.secrets, ns, 'db')), { password: 'vault-pw' });
  });
});
