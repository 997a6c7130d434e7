// ESO's finalizer (externalsecrets.external-secrets.io/externalsecret-cleanup, added by ESO 0.20.1
// and later to every ExternalSecret) after a migration to Tessera: a deleted ExternalSecret that
// carries it must go away within seconds, or kubectl delete, Argo CD prunes and namespace
// deletions hang. Through the operator as its own process, under the RBAC we ship (a missing
// patch permission on externalsecrets fails here as it would for a user).
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeClient } from '../../src/kube/client.ts';
import { core, type KubeObject, type Secret } from '../../src/kube/types.ts';
import { externalSecrets, secretStores } from '../../src/controllers/resources.ts';
import { FINALIZER_ESO_EXTERNALSECRET } from '../../src/api/constants.ts';
import { adminClient, freshNamespace, peers, waitFor, waitReady } from './helpers.ts';
import { installTessera, startOperator } from './operator.ts';

let admin: KubeClient;
let ns: string;

function externalSecret(name: string, finalizers: string[], store = 'fake'): KubeObject {
  return {
    apiVersion: 'external-secrets.io/v1',
    kind: 'ExternalSecret',
    metadata: { name, namespace: ns, finalizers },
    spec: { secretStoreRef: { name: store }, refreshInterval: '1h', data: [{ secretKey: 'a', remoteRef: { key: 'a' } }] },
  } as KubeObject;
}

before(async () => {
  const env = await peers();
  admin = await adminClient();
  await installTessera(admin);
  await startOperator(admin, env);
  ns = await freshNamespace(admin, 'fin');
  await admin.create(secretStores, {
    apiVersion: 'external-secrets.io/v1',
    kind: 'SecretStore',
    metadata: { name: 'fake', namespace: ns },
    spec: { provider: { fake: { data: [{ key: 'a', value: 'value-a' }] } } },
  } as KubeObject);
});

const gone = (name: string) => waitFor(`ExternalSecret ${ns}/${name} gone`, async () => ((await admin.tryGet(externalSecrets, ns, name)) ? undefined : true), 10_000);

describe("ESO's finalizer on ExternalSecrets", () => {
  it('a synced ExternalSecret carrying it is deleted within seconds; its Secret is garbage-collected', async () => {
    await admin.create(externalSecrets, externalSecret('migrated', [FINALIZER_ESO_EXTERNALSECRET]));
    await waitReady(admin, ns, 'migrated', 'True');
    assert.ok(await admin.tryGet<Secret>(core.secrets, ns, 'migrated'), 'the Secret was written');
    const t0 = Date.now();
    await admin.delete(externalSecrets, ns, 'migrated');
    await gone('migrated');
    assert.ok(Date.now() - t0 < 10_000, `gone after ${Date.now() - t0} ms`);
    // Owner: the apiserver's garbage collector removes the Secret once its owner is gone.
    await waitFor('owned Secret collected', async () => ((await admin.tryGet(core.secrets, ns, 'migrated')) ? undefined : true), 30_000);
  });

  it('only ESO\'s finalizer is removed: another one stays until its owner removes it', async () => {
    await admin.create(externalSecrets, externalSecret('shared-fin', ['example.com/keep', FINALIZER_ESO_EXTERNALSECRET]));
    await waitReady(admin, ns, 'shared-fin', 'True');
    await admin.delete(externalSecrets, ns, 'shared-fin');
    const left = await waitFor('ESO finalizer removed', async () => {
      const es = await admin.tryGet<KubeObject>(externalSecrets, ns, 'shared-fin');
      return es && !(es.metadata?.finalizers ?? []).includes(FINALIZER_ESO_EXTERNALSECRET) ? es : undefined;
    }, 10_000);
    assert.deepEqual(left.metadata?.finalizers, ['example.com/keep']);
    await admin.patch(externalSecrets, ns, 'shared-fin', 'merge', { metadata: { finalizers: null } });
    await gone('shared-fin');
  });

  it('an ExternalSecret that never synced (its store is missing) is not held either', async () => {
    await admin.create(externalSecrets, externalSecret('never-synced', [FINALIZER_ESO_EXTERNALSECRET], 'no-such-store'));
    await waitReady(admin, ns, 'never-synced', 'False', /not found/);
    await admin.delete(externalSecrets, ns, 'never-synced');
    await gone('never-synced');
  });
});
