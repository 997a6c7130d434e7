// The Kubernetes provider through the operator: copying a Secret from another namespace with a
// store ServiceAccount whose RBAC allows exactly that namespace.
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

let env: PeersEnv;
let admin: KubeClient;
const rbac = (plural: string, kind: string, namespaced: boolean) => ({ group: 'rbac.authorization.k8s.io', version: 'v1', plural, kind, namespaced });


before(async () => {
  env = await peers();
  admin = await adminClient();
  await installTessera(admin);
  await startOperator(admin, env);
});

describe('Kubernetes provider through the operator', () => {
  it('copies from the one namespace its RBAC allows, and reports a denial elsewhere', async () => {
    const app = await freshNamespace(admin, 'k8s-app');
    const shared = await freshNamespace(admin, 'k8s-shared');
    const other = await freshNamespace(admin, 'k8s-other');
    for (const ns of [shared, other]) {
      await admin.create(core.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: ns }, stringData: { url: `postgres://${ns}` } } as Secret);
    }
    await admin.create(core.serviceAccounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'reader', namespace: app } });
    await admin.create(rbac('roles', 'Role', true), {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'read-secrets', namespace: shared },
      rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'] }],
    } as KubeObject);
    await admin.create(rbac('rolebindings', 'RoleBinding', true), {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'reader', namespace: shared },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-secrets' },
      subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: app }],
    } as KubeObject);
    const caBundle = readFileSync(path.join(stateDir, 'pki', 'ca.crt')).toString('base64');
    const store = (name: string, remoteNamespace: string) =>
      admin.create(secretStores, {
        apiVersion: 'external-secrets.io/v1',
        kind: 'SecretStore',
        metadata: { name, namespace: app },
        spec: { provider: { kubernetes: { remoteNamespace, server: { url: env.KUBE_APISERVER_URL, caBundle }, auth: { serviceAccount: { name: 'reader' } } } } },
      } as KubeObject);
    await store('shared', shared);
    await store('other', other);
    const es = (name: string, storeName: string) =>
      admin.create(externalSecrets, {
        apiVersion: 'external-secrets.io/v1',
        kind: 'ExternalSecret',
        metadata: { name, namespace: app },
        spec: { secretStoreRef: { name: storeName }, data: [{ secretKey: 'DATABASE_URL', remoteRef: { key: 'db', property: 'url' } }] },
      } as KubeObject);
    await es('copied', 'shared');
    await es('denied', 'other');
    await waitReady(admin, app, 'copied', 'True');
    assert.deepEqual(decodeSecret(await admin.get<Secret>(core.secrets, app, 'copied')), { DATABASE_URL: `postgres://${shared}` });
    const c = await waitReady(admin, app, 'denied', 'False', /forbidden|denied|permission/i);
    assert.ok(!(c.message ?? '').includes(`postgres://${other}`));
    assert.equal(await admin.tryGet(core.secrets, app, 'denied'), undefined);
  });
});
