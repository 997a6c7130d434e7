// ESO 2.9's generic targets (spec.target.manifest) through the operator as users run it: a
// ConfigMap written instead of a Secret, updated when the remote value changes, repaired after a
// hand edit, gone with its ExternalSecret (Owner), and an unmanaged ConfigMap never taken over.
// A second operator without --unsafe-allow-generic-targets refuses the field in status. Each
// operator has its own --controller-class, and each store names one of them.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { KubeClient } from '../../src/kube/client.ts';
import { core, type KubeObject } from '../../src/kube/types.ts';
import { externalSecrets, secretStores } from '../../src/controllers/resources.ts';
import { adminClient, freshNamespace, peers, uniqueName, waitFor, waitReady } from './helpers.ts';
import { withOurCrd } from './eso29-crd-guard.ts';
import { installTessera, startOperator } from './operator.ts';

const allowedClass = `generic-${randomBytes(3).toString('hex')}`;
const refusedClass = `generic-off-${randomBytes(3).toString('hex')}`;
let admin: KubeClient;
let ns: string;

type ConfigMap = KubeObject & { data?: Record<string, string> };

function store(name: string, controller: string, value: string): KubeObject {
  return {
    apiVersion: 'external-secrets.io/v1',
    kind: 'SecretStore',
    metadata: { name, namespace: ns },
    spec: { controller, provider: { fake: { data: [{ key: 'url', value }] } } },
  } as KubeObject;
}

function configMapTarget(name: string, storeName: string, target: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'external-secrets.io/v1',
    kind: 'ExternalSecret',
    metadata: { name, namespace: ns },
    spec: {
      secretStoreRef: { name: storeName },
      refreshInterval: '1s',
      target: { manifest: { apiVersion: 'v1', kind: 'ConfigMap' }, ...target },
      data: [{ secretKey: 'url', remoteRef: { key: 'url' } }],
    },
  } as KubeObject;
}

async function configMapData(name: string, want: string): Promise<ConfigMap> {
  return waitFor(`ConfigMap ${name} holds the expected url`, async () => {
    const cm = await admin.tryGet<ConfigMap>(core.configMaps, ns, name);
    return cm?.data?.url === want ? cm : undefined;
  }, 30_000);
}

before(async () => {
  const env = await peers();
  admin = await adminClient();
  await installTessera(admin);
  await startOperator(admin, env, [`--controller-class=${allowedClass}`, '--unsafe-allow-generic-targets']);
  await startOperator(admin, env, [`--controller-class=${refusedClass}`]);
  ns = await freshNamespace(admin, 'generic');
  await admin.create(secretStores, store('fake', allowedClass, 'https://one.example'));
  await admin.create(secretStores, store('fake-off', refusedClass, 'https://one.example'));
});

describe('spec.target.manifest: ConfigMap', () => {
  it('creates the ConfigMap, updates it on a remote change, repairs drift and goes with its ExternalSecret', () => withOurCrd(admin, ['manifest'], async () => {
    const appConfig = uniqueName('app-config');
    await admin.patch(secretStores, ns, 'fake', 'merge', { spec: { provider: { fake: { data: [{ key: 'url', value: 'https://one.example' }] } } } });
    await admin.create(externalSecrets, configMapTarget(appConfig, 'fake'));
    const ready = await waitReady(admin, ns, appConfig, 'True');
    assert.equal(ready.reason, 'ResourceSynced');
    const cm = await configMapData(appConfig, 'https://one.example');
    assert.equal(cm.metadata?.labels?.['reconcile.external-secrets.io/managed'], 'true');
    const owner = cm.metadata?.ownerReferences?.find((r) => r.controller === true);
    assert.equal(owner?.kind, 'ExternalSecret');
    assert.equal(owner?.name, appConfig);
    assert.equal(await admin.tryGet(core.secrets, ns, appConfig), undefined, 'no Secret is written for a generic target');

    // The remote value changes: the next refresh writes it.
    await admin.patch(secretStores, ns, 'fake', 'merge', { spec: { provider: { fake: { data: [{ key: 'url', value: 'https://two.example' }] } } } });
    await configMapData(appConfig, 'https://two.example');

    // A hand edit is repaired by the watch on managed ConfigMaps, not by the next refresh.
    await admin.patch(externalSecrets, ns, appConfig, 'merge', { spec: { refreshInterval: '1h' } });
    await waitFor('app-config synced its 1h refreshInterval', async () => {
      const es = await admin.get<KubeObject & { status?: { syncedResourceVersion?: string } }>(externalSecrets, ns, appConfig);
      return es.status?.syncedResourceVersion?.startsWith(`${es.metadata?.generation ?? 0}-`) ? true : undefined;
    }, 30_000);
    await admin.patch(core.configMaps, ns, appConfig, 'merge', { data: { url: 'https://edited.example', extra: 'x' } });
    const repaired = await configMapData(appConfig, 'https://two.example');
    assert.equal(repaired.data?.extra, undefined, 'the repair restores the whole data');

    // Owner: the ConfigMap is garbage-collected with its ExternalSecret.
    const uid = repaired.metadata?.uid;
    await admin.delete(externalSecrets, ns, appConfig);
    await waitFor('ConfigMap ${appConfig} deleted with its ExternalSecret', async () => {
      const now = await admin.tryGet<ConfigMap>(core.configMaps, ns, appConfig);
      return now === undefined || now.metadata?.uid !== uid ? true : undefined;
    }, 60_000);
  }));

  it('never takes over a ConfigMap it did not create', () => withOurCrd(admin, ['manifest'], async () => {
    const takeover = uniqueName('takeover');
    const theirs = uniqueName('theirs');
    await admin.create(core.configMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: theirs, namespace: ns }, data: { url: 'mine' } } as KubeObject);
    await admin.create(externalSecrets, configMapTarget(takeover, 'fake', { name: theirs }));
    const failed = await waitReady(admin, ns, takeover, 'False', /not managed by this ExternalSecret/);
    assert.equal(failed.reason, 'ResourceSyncedError');
    const cm = await admin.get<ConfigMap>(core.configMaps, ns, theirs);
    assert.deepEqual(cm.data, { url: 'mine' });
    assert.equal(cm.metadata?.ownerReferences, undefined);
    assert.equal(cm.metadata?.labels?.['reconcile.external-secrets.io/managed'], undefined);
  }));

  it('merges into an existing ConfigMap with creationPolicy Merge, keeping its other keys', () => withOurCrd(admin, ['manifest'], async () => {
    const mergeIn = uniqueName('merge-in');
    const shared = uniqueName('shared');
    await admin.create(core.configMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: shared, namespace: ns }, data: { other: 'keep' } } as KubeObject);
    await admin.create(externalSecrets, configMapTarget(mergeIn, 'fake', { name: shared, creationPolicy: 'Merge' }));
    await waitReady(admin, ns, mergeIn, 'True');
    const cm = await waitFor('shared ConfigMap merged', async () => {
      const c = await admin.tryGet<ConfigMap>(core.configMaps, ns, shared);
      return c?.data?.url ? c : undefined;
    }, 30_000);
    assert.equal(cm.data?.other, 'keep');
    assert.equal(cm.metadata?.labels?.['reconcile.external-secrets.io/managed'], undefined);
  }));

  it('is refused, naming the field and the flag, when generic targets are not allowed', () => withOurCrd(admin, ['manifest'], async () => {
    const refused = uniqueName('refused');
    await admin.create(externalSecrets, configMapTarget(refused, 'fake-off'));
    const failed = await waitReady(admin, ns, refused, 'False', /spec\.target\.manifest/);
    assert.equal(failed.reason, 'SecretSyncedError');
    assert.match(failed.message ?? '', /--unsafe-allow-generic-targets/);
    assert.equal(await admin.tryGet(core.configMaps, ns, refused), undefined);
    assert.equal(await admin.tryGet(core.secrets, ns, refused), undefined);
  }));
});
