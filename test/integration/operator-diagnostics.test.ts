// What an operator sees when the controller cannot work: the operator process runs against the
// real apiserver (a) as a ServiceAccount whose RBAC lacks `list` on externalsecrets and (b) with a
// token the apiserver refuses; its JSON log must carry one error line per failing watch saying
// what to fix, and /readyz must name the watch. (c) A store with bad credentials gets a Warning
// event, recorded once rather than on every requeue.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeClient } from '../../src/kube/client.ts';
import { applyManifests } from '../../src/kube/manifests.ts';
import { core, type CoreEvent, type KubeObject, type Secret } from '../../src/kube/types.ts';
import { secretStores } from '../../src/controllers/resources.ts';
import { kubeconfigWithToken, startOperator as launch, type Operator } from '../peers/operator.ts';
import type { PeersEnv } from '../peers/index.ts';
import { adminClient, freshNamespace, onCleanup, peers, sleep, uniqueName, waitFor } from './helpers.ts';
import { installTessera, manifestsIn, startOperator } from './operator.ts';

let env: PeersEnv;
let admin: KubeClient;


/** The operator's JSON log lines. */
function jsonLines(op: Operator): Array<Record<string, unknown>> {
  return op.logs.flatMap((l) => {
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

async function readyz(op: Operator): Promise<{ status: number; body: string }> {
  const res = await fetch(`${op.healthUrl}/readyz`);
  return { status: res.status, body: await res.text() };
}

before(async () => {
  env = await peers(['etcd', 'kube-apiserver', 'kube-controller-manager', 'bao']);
  admin = await adminClient();
  await installTessera(admin);
});

describe('an operator that cannot list or watch', () => {
  it('RBAC without list on externalsecrets: one error line naming the grant, /readyz names the watch', async () => {
    const ns = await freshNamespace(admin, 'ops-rbac');
    const sa = 'limited';
    const roleName = uniqueName('tessera-limited');
    // The shipped ClusterRole, minus `list` on externalsecrets.
    const shipped = manifestsIn('deploy/rbac').find((o) => o.kind === 'ClusterRole') as KubeObject & { rules: Array<{ resources: string[]; verbs: string[]; apiGroups: string[] }> };
    const rules = shipped.rules
      .flatMap((r) =>
        r.resources.includes('externalsecrets')
          ? [{ ...r, resources: r.resources.filter((x) => x !== 'externalsecrets') }, { apiGroups: r.apiGroups, resources: ['externalsecrets'], verbs: r.verbs.filter((v) => v !== 'list') }]
          : [r],
      )
      .filter((r) => r.resources.length > 0 && r.verbs.length > 0);
    await applyManifests(admin, [
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace: ns } },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: roleName }, rules } as KubeObject,
      {
        apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: roleName },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName },
        subjects: [{ kind: 'ServiceAccount', name: sa, namespace: ns }],
      } as KubeObject,
    ]);
    onCleanup(async () => {
      await admin.request('DELETE', `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${roleName}`).catch(() => undefined);
      await admin.request('DELETE', `/apis/rbac.authorization.k8s.io/v1/clusterroles/${roleName}`).catch(() => undefined);
    });
    const token = await admin.request<{ status: { token: string } }>('POST', `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`, {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
    });
    const op = await launch(admin, env, [], {}, { kubeconfig: kubeconfigWithToken(env, `ops-rbac-${ns}`, token.status.token), until: 'serving' });
    try {
      const line = await waitFor('the error line about externalsecrets', () =>
        jsonLines(op).find((l) => l.level === 'error' && l.resource === 'externalsecrets.external-secrets.io'), 30_000);
      assert.equal(line.verb, 'list');
      assert.equal(line.status, 403);
      assert.equal(line.scope, 'all namespaces');
      assert.equal(line.user, `system:serviceaccount:${ns}:${sa}`);
      assert.match(String(line.fix), new RegExp(`^grant list on externalsecrets\\.external-secrets\\.io \\(all namespaces\\) to system:serviceaccount:${ns}:${sa} \\(see deploy/ RBAC`));
      assert.match(String(line.msg), /^cannot list externalsecrets\.external-secrets\.io \(all namespaces\): 403 Forbidden/);

      const r = await waitFor('/readyz to name the watch', async () => {
        const x = await readyz(op);
        // The other watches are allowed: once they have synced, only the failing one is named.
        return x.body.split('\n').length === 1 ? x : undefined;
      });
      assert.equal(r.status, 503);
      assert.match(r.body, /^\[-\]informer externalsecrets\.external-secrets\.io \(all namespaces\): 403 Forbidden on list since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, not synced$/);

      // The retry loop goes on (backoff up to 30 s); within a few seconds it adds no second line.
      await sleep(4000);
      const errors = jsonLines(op).filter((l) => l.level === 'error' && l.resource === 'externalsecrets.external-secrets.io');
      assert.equal(errors.length, 1, JSON.stringify(errors));
      assert.ok(!op.logs.some((l) => l.includes(token.status.token)), 'the token is never logged');
    } finally {
      await op.stop();
    }
  });

  it('a token the apiserver refuses: error lines saying the credentials are invalid or expired', async () => {
    const badToken = `not-a-valid-token-${uniqueName('x')}`;
    const op = await launch(admin, env, [], {}, { kubeconfig: kubeconfigWithToken(env, 'ops-badtoken', badToken), until: 'serving' });
    try {
      const line = await waitFor('a 401 error line', () => jsonLines(op).find((l) => l.level === 'error' && l.status === 401), 30_000);
      assert.match(String(line.fix), /invalid or expired/);
      assert.match(String(line.msg), /: 401 Unauthorized/);
      const r = await waitFor('/readyz to name the watches', async () => {
        const x = await readyz(op);
        return /401 Unauthorized on list since/.test(x.body) ? x : undefined;
      });
      assert.equal(r.status, 503);
      assert.ok(!op.logs.some((l) => l.includes(badToken)), 'the token is never logged');
    } finally {
      await op.stop();
    }
  });
});

describe('events on stores', () => {
  it('a SecretStore with bad credentials gets one Warning InvalidProviderConfig event, not one per requeue', async () => {
    const ns = await freshNamespace(admin, 'ops-events');
    // A class of its own, so that operators of other test files leave this store alone.
    const controllerClass = uniqueName('ops-events');
    await startOperator(admin, env, [`--controller-class=${controllerClass}`, '--store-requeue-interval=1s']);
    const wrongToken = `wrong-${uniqueName('t')}`;
    await admin.create(core.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'vault-token', namespace: ns }, stringData: { token: wrongToken } } as Secret);
    await admin.create(secretStores, {
      apiVersion: 'external-secrets.io/v1',
      kind: 'SecretStore',
      metadata: { name: 'vault', namespace: ns },
      spec: { controller: controllerClass, provider: { vault: { server: env.VAULT_ADDR, path: 'secret', version: 'v2', auth: { tokenSecretRef: { name: 'vault-token', key: 'token' } } } } },
    } as KubeObject);
    const storeEvents = async () =>
      (await admin.list<CoreEvent>(core.events, ns)).items.filter((e) => e.involvedObject?.kind === 'SecretStore' && e.involvedObject.name === 'vault');
    const warning = await waitFor('a Warning event on the store', async () => (await storeEvents()).find((e) => e.type === 'Warning'), 30_000);
    assert.equal(warning.reason, 'InvalidProviderConfig');
    assert.match(warning.message ?? '', /^unable to validate store: /);
    assert.ok(!(warning.message ?? '').includes(wrongToken), 'no credential in the event');
    // Several requeues later (1 s interval): still one event, never re-counted.
    await sleep(4000);
    const all = await storeEvents();
    assert.equal(all.length, 1, JSON.stringify(all.map((e) => [e.reason, e.count])));
    assert.equal(all[0]!.count, 1);

    // Fixed credentials: the store becomes valid, recorded as a Normal Valid event.
    await admin.patch(core.secrets, ns, 'vault-token', 'merge', { stringData: { token: env.VAULT_TOKEN } });
    // Validation builds a fresh client (and reads the credentials) on each requeue.
    const valid = await waitFor('a Normal Valid event', async () => (await storeEvents()).find((e) => e.reason === 'Valid'), 30_000);
    assert.equal(valid.type, 'Normal');
    assert.equal(valid.message, 'store validated');
  });
});
