// A store whose credentials are fixed: its ExternalSecrets must recover as soon as the store is
// validated again (its Ready condition turns True), not when their backoff, grown by then to tens
// of seconds or minutes, happens to run out. Through the operator under its shipped RBAC, with the
// Kubernetes provider (needs only the apiserver): the store's ServiceAccount is missing at first.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { KubeClient } from '../../src/kube/client.ts';
import { core, type KubeObject, type Secret } from '../../src/kube/types.ts';
import { externalSecrets, secretStores } from '../../src/controllers/resources.ts';
import { stateDir, type PeersEnv } from '../peers/index.ts';
import { adminClient, decodeSecret, freshNamespace, peers, sleep, waitReady } from './helpers.ts';
import { installTessera, startOperator } from './operator.ts';

let env: PeersEnv;
let admin: KubeClient;
const rbac = (plural: string, kind: string) => ({ group: 'rbac.authorization.k8s.io', version: 'v1', plural, kind, namespaced: true });

before(async () => {
  env = await peers();
  admin = await adminClient();
  await installTessera(admin);
  await startOperator(admin, env);
});

describe('a store that becomes ready', () => {
  it('requeues its failing ExternalSecrets at once, ahead of their backoff', { timeout: 120_000 }, async () => {
    const app = await freshNamespace(admin, 'recover');
    await admin.create(core.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: app }, stringData: { url: 'postgres://db' } } as Secret);
    const caBundle = readFileSync(path.join(stateDir, 'pki', 'ca.crt')).toString('base64');
    // Validated again every second (spec.refreshInterval), so the fix is seen at once.
    await admin.create(secretStores, {
      apiVersion: 'external-secrets.io/v1',
      kind: 'SecretStore',
      metadata: { name: 'local', namespace: app },
      spec: { refreshInterval: 1, provider: { kubernetes: { remoteNamespace: app, server: { url: env.KUBE_APISERVER_URL, caBundle }, auth: { serviceAccount: { name: 'reader' } } } } },
    } as KubeObject);
    await admin.create(externalSecrets, {
      apiVersion: 'external-secrets.io/v1',
      kind: 'ExternalSecret',
      metadata: { name: 'copied', namespace: app },
      spec: { secretStoreRef: { name: 'local' }, refreshInterval: '1h', data: [{ secretKey: 'DATABASE_URL', remoteRef: { key: 'db', property: 'url' } }] },
    } as KubeObject);
    await waitReady(admin, app, 'copied', 'False', /reader/);
    // Retries back off 1 s, 2 s, 4 s, 8 s, 16 s: after about 17 s the next one is ~14 s away.
    await sleep(17_000);
    await admin.create(core.serviceAccounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'reader', namespace: app } });
    await admin.create(rbac('roles', 'Role'), {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'read-secrets', namespace: app },
      rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'] }],
    } as KubeObject);
    await admin.create(rbac('rolebindings', 'RoleBinding'), {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'reader', namespace: app },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-secrets' },
      subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: app }],
    } as KubeObject);
    const fixedAt = Date.now();
    await waitReady(admin, app, 'copied', 'True', /./, 8_000);
    assert.ok(Date.now() - fixedAt < 8_000, `recovered ${Date.now() - fixedAt} ms after the fix`);
    assert.deepEqual(decodeSecret(await admin.get<Secret>(core.secrets, app, 'copied')), { DATABASE_URL: 'postgres://db' });
  });
});
