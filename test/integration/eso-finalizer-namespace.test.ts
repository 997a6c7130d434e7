// Deleting a namespace that holds ExternalSecrets carrying ESO's finalizer
// (externalsecrets.external-secrets.io/externalsecret-cleanup, which ESO 0.20.1 and later puts on
// every ExternalSecret) completes: the namespace controller deletes the ExternalSecrets, Tessera
// removes ESO's finalizer from each, and the namespace goes away. Without that, a namespace
// deletion after a migration from ESO hangs in Terminating. Own --controller-class.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { FINALIZER_ESO_EXTERNALSECRET } from '../../src/api/constants.ts';
import type { KubeClient } from '../../src/kube/client.ts';
import { core, type KubeObject } from '../../src/kube/types.ts';
import { externalSecrets, secretStores } from '../../src/controllers/resources.ts';
import { adminClient, onCleanup, peers, uniqueName, waitFor, waitReady } from './helpers.ts';
import { installTessera, startOperator } from './operator.ts';

const controllerClass = `nsdel-${randomBytes(3).toString('hex')}`;
const COUNT = 5;
let admin: KubeClient;

before(async () => {
  const env = await peers();
  admin = await adminClient();
  await installTessera(admin);
  await startOperator(admin, env, [`--controller-class=${controllerClass}`]);
});

describe('namespace deletion with ESO-finalized ExternalSecrets', () => {
  it('completes: every ExternalSecret loses ESO\'s finalizer and the namespace goes away', async () => {
    const ns = uniqueName('nsdel');
    await admin.create(core.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    // On a failure, leave no namespace stuck in Terminating on the shared apiserver.
    onCleanup(async () => {
      for (let i = 0; i < COUNT; i++) await admin.patch(externalSecrets, ns, `es-${i}`, 'merge', { metadata: { finalizers: null } }).catch(() => undefined);
      await admin.delete(core.namespaces, undefined, ns).catch(() => undefined);
    });
    await admin.create(secretStores, {
      apiVersion: 'external-secrets.io/v1',
      kind: 'SecretStore',
      metadata: { name: 'fake', namespace: ns },
      spec: { controller: controllerClass, provider: { fake: { data: [{ key: 'k', value: 'v' }] } } },
    } as KubeObject);
    for (let i = 0; i < COUNT; i++) {
      await admin.create(externalSecrets, {
        apiVersion: 'external-secrets.io/v1',
        kind: 'ExternalSecret',
        // As ESO leaves them: its finalizer on every ExternalSecret.
        metadata: { name: `es-${i}`, namespace: ns, finalizers: [FINALIZER_ESO_EXTERNALSECRET] },
        spec: { secretStoreRef: { name: 'fake' }, refreshInterval: '1h', data: [{ secretKey: 'k', remoteRef: { key: 'k' } }] },
      } as KubeObject);
    }
    for (let i = 0; i < COUNT; i++) await waitReady(admin, ns, `es-${i}`, 'True');

    const started = Date.now();
    await admin.delete(core.namespaces, undefined, ns);
    await waitFor(`namespace ${ns} deleted`, async () => ((await admin.tryGet(core.namespaces, undefined, ns)) ? undefined : true), 120_000);
    const list = await admin.request<{ items: unknown[] }>('GET', `/apis/external-secrets.io/v1/namespaces/${ns}/externalsecrets`).catch(() => ({ items: [] }));
    assert.equal(list.items.length, 0);
    console.log(`namespace deleted after ${Date.now() - started} ms`);
  });
});
