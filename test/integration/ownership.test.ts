// Ownership end to end (ADR 0004), the privileged-template guard, and status that follows a store
// at once, through the operator as its own process under its shipped RBAC. The fake provider
// (values declared in the store) needs only the control plane. Every assertion reads the Secret
// from the apiserver, so ownership is decided on what the operator really writes and caches.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeClient } from '../../src/kube/client.ts';
import { core, type KubeObject, type Secret } from '../../src/kube/types.ts';
import { clusterSecretStores, externalSecrets, secretStores } from '../../src/controllers/resources.ts';
import { LABEL_CREATED_BY, LABEL_MANAGED } from '../../src/api/constants.ts';
import { adminClient, decodeSecret, freshNamespace, onCleanup, peers, sleep, uniqueName, waitFor, waitReady } from './helpers.ts';
import { installTessera, startOperator } from './operator.ts';

let admin: KubeClient;
let ns: string;

const fakeStore = (name: string, namespace: string) => ({
  apiVersion: 'external-secrets.io/v1',
  kind: 'SecretStore',
  metadata: { name, namespace },
  spec: { provider: { fake: { data: [{ key: 'a', value: 'value-a' }, { key: 'b', value: 'value-b' }, { key: 'c', value: 'value-c' }] } } },
}) as KubeObject;

function externalSecret(name: string, spec: Record<string, unknown>, namespace = ns): KubeObject {
  return { apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret', metadata: { name, namespace }, spec: { secretStoreRef: { name: 'fake' }, ...spec } } as KubeObject;
}
const dataOf = (...keys: string[]) => keys.map((k) => ({ secretKey: k, remoteRef: { key: k } }));
const getSecret = (name: string, namespace = ns) => admin.get<Secret>(core.secrets, namespace, name);

/** A Secret another team made by hand: no label, no owner. */
async function foreignSecret(name: string): Promise<void> {
  await admin.create(core.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns }, stringData: { precious: 'do-not-touch' } } as Secret);
}

before(async () => {
  const env = await peers();
  admin = await adminClient();
  await installTessera(admin);
  await startOperator(admin, env);
  ns = await freshNamespace(admin, 'own');
  await admin.create(secretStores, fakeStore('fake', ns));
});

describe('ownership through the operator', () => {
  it('Merge: a key removed from the spec leaves the Secret; foreign keys stay; no managed label', async () => {
    await foreignSecret('merge-removal');
    await admin.create(externalSecrets, externalSecret('merge-removal', { target: { name: 'merge-removal', creationPolicy: 'Merge' }, data: dataOf('a', 'b') }));
    await waitReady(admin, ns, 'merge-removal', 'True');
    assert.deepEqual(decodeSecret(await getSecret('merge-removal')), { precious: 'do-not-touch', a: 'value-a', b: 'value-b' });
    await admin.patch(externalSecrets, ns, 'merge-removal', 'merge', { spec: { data: dataOf('a') } });
    const after = await waitFor('key b removed', async () => {
      const s = await getSecret('merge-removal');
      return decodeSecret(s).b === undefined ? s : undefined;
    }, 20_000);
    assert.deepEqual(decodeSecret(after), { precious: 'do-not-touch', a: 'value-a' });
    assert.equal(after.metadata?.labels?.[LABEL_MANAGED], undefined, 'Merge does not mark a foreign Secret managed');
    assert.equal(after.metadata?.labels?.[LABEL_CREATED_BY], undefined);
    const managers = (after.metadata?.managedFields ?? []).map((m) => m.manager);
    assert.ok(managers.includes('externalsecrets.external-secrets.io/merge-removal'), `written with ESO's field manager: ${managers.join(', ')}`);
  });

  it('two Merge ExternalSecrets into one Secret coexist without rewriting each other', async () => {
    await foreignSecret('merge-two');
    await admin.create(externalSecrets, externalSecret('merge-one-a', { target: { name: 'merge-two', creationPolicy: 'Merge' }, data: dataOf('a') }));
    await admin.create(externalSecrets, externalSecret('merge-one-c', { target: { name: 'merge-two', creationPolicy: 'Merge' }, data: dataOf('c') }));
    await waitReady(admin, ns, 'merge-one-a', 'True');
    await waitReady(admin, ns, 'merge-one-c', 'True');
    const both = await waitFor('both keys', async () => {
      const s = await getSecret('merge-two');
      return decodeSecret(s).a && decodeSecret(s).c ? s : undefined;
    }, 20_000);
    assert.deepEqual(decodeSecret(both), { precious: 'do-not-touch', a: 'value-a', c: 'value-c' });
    // Force a sync of both: neither undoes the other, and the Secret settles (no write loop).
    for (const n of ['merge-one-a', 'merge-one-c']) await admin.patch(externalSecrets, ns, n, 'merge', { metadata: { annotations: { 'force-sync': '1' } } });
    await sleep(3000);
    const settled = await getSecret('merge-two');
    await sleep(2000);
    const later = await getSecret('merge-two');
    assert.equal(later.metadata?.resourceVersion, settled.metadata?.resourceVersion, 'no write ping-pong between the two');
    assert.deepEqual(decodeSecret(later), { precious: 'do-not-touch', a: 'value-a', c: 'value-c' });
  });

  it('Merge then Owner: the takeover is refused and the foreign Secret keeps its keys', async () => {
    await foreignSecret('victim');
    await admin.create(externalSecrets, externalSecret('merger', { target: { name: 'victim', creationPolicy: 'Merge' }, data: dataOf('a') }));
    await waitReady(admin, ns, 'merger', 'True');
    for (const [name, policy] of [['taker-owner', 'Owner'], ['taker-orphan', 'Orphan']] as const) {
      await admin.create(externalSecrets, externalSecret(name, { target: { name: 'victim', creationPolicy: policy }, data: dataOf('b') }));
      const c = await waitReady(admin, ns, name, 'False', /is not managed by this ExternalSecret/);
      assert.match(c.message ?? '', /secret "victim" exists and is not managed/);
    }
    const s = await getSecret('victim');
    assert.deepEqual(decodeSecret(s), { precious: 'do-not-touch', a: 'value-a' });
    assert.equal((s.metadata?.ownerReferences ?? []).length, 0);
  });

  it('Owner: a label removed from template.metadata is removed from the Secret; other tools\' labels stay', async () => {
    await admin.create(externalSecrets, externalSecret('labelled', {
      data: dataOf('a'),
      target: { template: { metadata: { labels: { keep: 'yes', drop: 'soon' } } } },
    }));
    await waitReady(admin, ns, 'labelled', 'True');
    assert.equal((await getSecret('labelled')).metadata?.labels?.drop, 'soon');
    await admin.patch(core.secrets, ns, 'labelled', 'merge', { metadata: { labels: { 'other-tool': 'x' } } });
    await admin.patch(externalSecrets, ns, 'labelled', 'merge', { spec: { target: { template: { metadata: { labels: { drop: null } } } } } });
    const s = await waitFor('label drop removed', async () => {
      const sec = await getSecret('labelled');
      return sec.metadata?.labels?.drop === undefined ? sec : undefined;
    }, 20_000);
    assert.equal(s.metadata?.labels?.keep, 'yes');
    assert.equal(s.metadata?.labels?.['other-tool'], 'x');
    assert.equal(s.metadata?.labels?.[LABEL_MANAGED], 'true');
  });

  it('Orphan: a Secret created by ExternalSecret A is refused to B with SecretOwnedByOther', async () => {
    await admin.create(externalSecrets, externalSecret('orphan-a', { target: { name: 'orphaned', creationPolicy: 'Orphan' }, data: dataOf('a') }));
    await waitReady(admin, ns, 'orphan-a', 'True');
    await admin.create(externalSecrets, externalSecret('orphan-b', { target: { name: 'orphaned', creationPolicy: 'Orphan' }, data: dataOf('b') }));
    const c = await waitReady(admin, ns, 'orphan-b', 'False', /owned by/);
    assert.equal(c.message, 'target is owned by another ExternalSecret: secret "orphaned" is owned by ExternalSecret "orphan-a"');
    assert.deepEqual(decodeSecret(await getSecret('orphaned')), { a: 'value-a' });
  });

  it('refuses a bootstrap token template with ESO\'s words (PrivilegedSecretType)', async () => {
    await admin.create(externalSecrets, externalSecret('bootstrap', { data: dataOf('a'), target: { template: { type: 'bootstrap.kubernetes.io/token' } } }));
    const c = await waitReady(admin, ns, 'bootstrap', 'False', /not allowed/);
    assert.equal(c.message, 'could not update secret: template.type="bootstrap.kubernetes.io/token" is not allowed');
    assert.equal(await admin.tryGet(core.secrets, ns, 'bootstrap'), undefined);
  });
});

describe('status follows the store at once', () => {
  it('a deleted SecretStore turns its ExternalSecrets Ready=False within seconds', async () => {
    const tns = await freshNamespace(admin, 'own-del');
    await admin.create(secretStores, fakeStore('fake', tns));
    await admin.create(externalSecrets, externalSecret('es', { refreshInterval: '1h', data: dataOf('a') }, tns));
    await waitReady(admin, tns, 'es', 'True');
    const t0 = performance.now();
    await admin.delete(secretStores, tns, 'fake');
    const c = await waitReady(admin, tns, 'es', 'False', /not found/, 10_000);
    assert.equal(c.message, `could not get secret data from provider: SecretStore "fake" in namespace "${tns}" not found`);
    assert.ok(performance.now() - t0 < 10_000);
    assert.deepEqual(decodeSecret(await admin.get<Secret>(core.secrets, tns, 'es')), { a: 'value-a' }, 'the Secret is left as it is');
  });

  it('a namespace that leaves a ClusterSecretStore\'s conditions turns Ready=False within seconds, and back', async () => {
    const tns = await freshNamespace(admin, 'own-css');
    const label = uniqueName('tenant');
    await admin.patch(core.namespaces, undefined, tns, 'merge', { metadata: { labels: { [label]: 'in' } } });
    const css = uniqueName('css');
    await admin.create(clusterSecretStores, {
      apiVersion: 'external-secrets.io/v1',
      kind: 'ClusterSecretStore',
      metadata: { name: css },
      spec: { conditions: [{ namespaceSelector: { matchLabels: { [label]: 'in' } } }], provider: { fake: { data: [{ key: 'a', value: 'value-a' }] } } },
    } as KubeObject);
    onCleanup(() => admin.delete(clusterSecretStores, undefined, css).catch(() => undefined));
    await admin.create(externalSecrets, externalSecret('es', { refreshInterval: '1h', secretStoreRef: { name: css, kind: 'ClusterSecretStore' }, data: dataOf('a') }, tns));
    await waitReady(admin, tns, 'es', 'True');
    await admin.patch(core.namespaces, undefined, tns, 'merge', { metadata: { labels: { [label]: 'out' } } });
    const c = await waitReady(admin, tns, 'es', 'False', /does not allow/, 10_000);
    assert.equal(c.message, `could not get secret data from provider: ClusterSecretStore "${css}" does not allow ExternalSecrets in namespace "${tns}" (spec.conditions)`);
    await admin.patch(core.namespaces, undefined, tns, 'merge', { metadata: { labels: { [label]: 'in' } } });
    await waitReady(admin, tns, 'es', 'True', /./, 10_000);
  });
});
