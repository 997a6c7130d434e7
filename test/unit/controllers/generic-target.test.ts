// The write step of generic targets of other kinds (src/controllers/externalsecret-generic-target.ts)
// over an in-memory store of objects: the kind is resolved (or refused, naming the field) before
// anything is read; an object is created, left alone when it already holds what would be written,
// updated after a hand edit, never written when someone else owns it, and deleted only when owned.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { computeInline } from '../../../src/compute/task.ts';
import type { KubeObject, ResourceType } from '../../../src/kube/types.ts';
import type { KindResolution } from '../../../src/kube/discovery.ts';
import { resolveGenericTarget, syncGenericTarget, type ConfigMapTargetDeps } from '../../../src/controllers/externalsecret-generic-target.ts';
import type { ES, ReconcilerKube } from '../../../src/controllers/externalsecret-reconciler.ts';
import { SyncError } from '../../../src/sync/errors.ts';
import { NOT_FOUND } from '../../../src/sync/desired.ts';
import { anExternalSecret, remote, withData, withDeletionPolicy, withTarget, withUid } from '../../fixtures/builders.ts';

const appConfigs: ResourceType = { group: 'config.example.com', version: 'v1', plural: 'appconfigs', kind: 'AppConfig', namespaced: true };
const manifest = { apiVersion: 'config.example.com/v1', kind: 'AppConfig' };

class MemoryKube {
  readonly objects = new Map<string, KubeObject>();
  readonly calls: string[] = [];
  private rv = 1;
  private key = (ns: string | undefined, name: string) => `${ns}/${name}`;
  withFieldManager(): ReconcilerKube {
    return this as unknown as ReconcilerKube;
  }
  async tryGet<T extends KubeObject>(_rt: ResourceType, ns: string | undefined, name: string): Promise<T | undefined> {
    const o = this.objects.get(this.key(ns, name));
    return o ? structuredClone(o) as T : undefined;
  }
  async create<T extends KubeObject>(rt: ResourceType, obj: T): Promise<T> {
    this.calls.push(`create ${rt.plural}`);
    const stored = { ...structuredClone(obj), metadata: { ...obj.metadata, uid: 'obj-uid', resourceVersion: String(this.rv++) } };
    this.objects.set(this.key(obj.metadata?.namespace, obj.metadata!.name!), stored);
    return stored;
  }
  async update<T extends KubeObject>(rt: ResourceType, obj: T): Promise<T> {
    this.calls.push(`update ${rt.plural}`);
    const stored = { ...structuredClone(obj), metadata: { ...obj.metadata, uid: 'obj-uid', resourceVersion: String(this.rv++) } };
    this.objects.set(this.key(obj.metadata?.namespace, obj.metadata!.name!), stored);
    return stored;
  }
  async delete(rt: ResourceType, ns: string | undefined, name: string): Promise<void> {
    this.calls.push(`delete ${rt.plural}`);
    this.objects.delete(this.key(ns, name));
  }
}

function deps(kube: MemoryKube): ConfigMapTargetDeps & { events: { normal: (...a: unknown[]) => void; warning: () => void }; seen: string[] } {
  const seen: string[] = [];
  return {
    kube: kube as unknown as ReconcilerKube,
    writer: kube as unknown as ReconcilerKube,
    computeDesiredSecret: async (input) => computeInline(input),
    events: { normal: (_es: unknown, reason: unknown, message: unknown) => seen.push(`${String(reason)} ${String(message)}`), warning: () => {} },
    writeError: (_t, e) => e as Error,
    seen,
  };
}

const es = () => anExternalSecret(withUid('es-uid'), withData('url', 'r'), withTarget({ name: 'settings', manifest })) as ES;
const fetched = (v: string) => ({ data: [remote(v)], dataFrom: [] });

describe('generic target: resolving the kind', () => {
  const resolver = (r: KindResolution) => ({ resolve: async () => r });
  test('a served namespaced kind resolves; missing, cluster-scoped and refused kinds fail naming spec.target.manifest', async () => {
    assert.deepEqual(await resolveGenericTarget(resolver({ found: appConfigs }), manifest, undefined, undefined), appConfigs);
    const refusals: Array<[KindResolution | undefined, { apiVersion: string; kind: string }, string]> = [
      [{ missing: 'kind' }, manifest, 'TargetKindNotFound'],
      [{ missing: 'groupVersion' }, manifest, 'TargetKindNotFound'],
      [{ found: { ...appConfigs, namespaced: false } }, manifest, 'TargetKindClusterScoped'],
      [{ invalid: 'apiVersion' }, manifest, 'UnsupportedTargetKind'],
      [{ found: appConfigs }, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role' }, 'UnsupportedTargetKind'],
      [undefined, manifest, 'UnsupportedTargetKind'],
    ];
    for (const [r, m, code] of refusals) {
      await assert.rejects(resolveGenericTarget(r ? resolver(r) : undefined, m, undefined, undefined),
        (e: unknown) => e instanceof SyncError && e.code === code && e.field === 'spec.target.manifest' && e.message.startsWith('spec.target.manifest: '), code);
    }
  });
});

describe('generic target: the write', () => {
  test('created once, left alone when up to date, updated after a hand edit', async () => {
    const kube = new MemoryKube();
    const d = deps(kube);
    await syncGenericTarget(d, appConfigs, es(), fetched('https://x.example'), undefined);
    assert.deepEqual(kube.calls, ['create appconfigs']);
    assert.deepEqual(d.seen, ['Created Created AppConfig settings']);
    const stored = kube.objects.get('team-a/settings') as KubeObject & { spec: { data: Record<string, string> } };
    assert.deepEqual(stored.spec, { data: { url: 'https://x.example' } });

    await syncGenericTarget(d, appConfigs, es(), fetched('https://x.example'), undefined);
    assert.deepEqual(kube.calls, ['create appconfigs'], 'nothing written when up to date');

    stored.spec.data.url = 'https://edited.example';
    await syncGenericTarget(d, appConfigs, es(), fetched('https://x.example'), undefined);
    assert.deepEqual(kube.calls, ['create appconfigs', 'update appconfigs']);
    assert.equal((kube.objects.get('team-a/settings') as typeof stored).spec.data.url, 'https://x.example');
  });

  test('an object someone else created is neither written nor deleted', async () => {
    const kube = new MemoryKube();
    kube.objects.set('team-a/settings', { apiVersion: manifest.apiVersion, kind: 'AppConfig', metadata: { name: 'settings', namespace: 'team-a', uid: 'theirs', resourceVersion: '1' }, spec: { data: { url: 'mine' } } } as KubeObject);
    await assert.rejects(syncGenericTarget(deps(kube), appConfigs, es(), fetched('https://x.example'), undefined), (e: unknown) => e instanceof SyncError && e.code === 'SecretNotManaged');
    const gone = anExternalSecret(withUid('es-uid'), withData('url', 'r'), withTarget({ name: 'settings', manifest }), withDeletionPolicy('Delete')) as ES;
    await syncGenericTarget(deps(kube), appConfigs, gone, { data: [NOT_FOUND], dataFrom: [] }, undefined).catch(() => undefined);
    assert.deepEqual(kube.calls, []);
    assert.ok(kube.objects.has('team-a/settings'));
  });

  test('deletionPolicy Delete removes an owned object when the provider has no data', async () => {
    const kube = new MemoryKube();
    const gone = anExternalSecret(withUid('es-uid'), withData('url', 'r'), withTarget({ name: 'settings', manifest }), withDeletionPolicy('Delete')) as ES;
    await syncGenericTarget(deps(kube), appConfigs, gone, fetched('https://x.example'), undefined);
    const plan = await syncGenericTarget(deps(kube), appConfigs, gone, { data: [NOT_FOUND], dataFrom: [] }, undefined);
    assert.equal(plan.action, 'delete');
    assert.deepEqual(kube.calls, ['create appconfigs', 'delete appconfigs']);
    assert.equal(kube.objects.size, 0);
  });
});

