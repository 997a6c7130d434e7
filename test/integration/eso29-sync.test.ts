// ESO 2.9's API additions through the operator as users run it (its own process, the RBAC we
// ship, the fake provider): creationPolicy CreateOrMerge, nullBytePolicy, templateFrom target in
// any case with valuesDecodingStrategy, a store refreshInterval given as a duration string, and an
// AWS CertificateManager store reported as unsupported on its status. The operator runs with its
// own --controller-class and every store here names it, so operators of other tests leave them be.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { KubeClient } from '../../src/kube/client.ts';
import { core, type KubeObject, type Secret } from '../../src/kube/types.ts';
import { externalSecrets, secretStores } from '../../src/controllers/resources.ts';
import { syncedVersion } from '../../src/controllers/externalsecret-predicates.ts';
import { adminClient, decodeSecret, freshNamespace, peers, waitFor, waitReady } from './helpers.ts';
import { installTessera, startOperator, type Operator } from './operator.ts';

const controllerClass = `eso29-${randomBytes(3).toString('hex')}`;
let admin: KubeClient;
let op: Operator;
let ns: string;

function externalSecret(name: string, spec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'external-secrets.io/v1',
    kind: 'ExternalSecret',
    metadata: { name, namespace: ns },
    spec: { secretStoreRef: { name: 'fake' }, refreshInterval: '1h', ...spec },
  } as KubeObject;
}

async function storeReady(name: string): Promise<{ status: string; reason: string; message: string }> {
  return waitFor(`store ${name} has a Ready condition`, async () => {
    const s = await admin.tryGet<KubeObject & { status?: { conditions?: Array<{ type: string; status: string; reason: string; message: string }> } }>(secretStores, ns, name);
    return s?.status?.conditions?.find((c) => c.type === 'Ready');
  }, 30_000);
}

/** controller_runtime_reconcile_total{controller="secretstore",result="requeue_after"}. */
async function storeRequeues(): Promise<number> {
  const text = await op.metrics();
  const line = text.split('\n').find((l) => l.startsWith('controller_runtime_reconcile_total{') && l.includes('controller="secretstore"') && l.includes('result="requeue_after"'));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

before(async () => {
  const env = await peers();
  admin = await adminClient();
  await installTessera(admin);
  op = await startOperator(admin, env, [`--controller-class=${controllerClass}`]);
  ns = await freshNamespace(admin, 'eso29');
  await admin.create(secretStores, {
    apiVersion: 'external-secrets.io/v1',
    kind: 'SecretStore',
    metadata: { name: 'fake', namespace: ns },
    spec: {
      controller: controllerClass,
      provider: { fake: { data: [{ key: 'a', value: 'value-a' }, { key: 'bin', value: 'YQBi' /* "a\0b" */ }, { key: 'user', value: 'admin' }] } },
    },
  } as KubeObject);
});

describe('ExternalSecret fields of ESO 2.9', () => {
  it('CreateOrMerge creates a missing Secret (no ownerReference) and merges into an existing one', async () => {
    await admin.create(core.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'shared', namespace: ns }, data: { other: Buffer.from('keep').toString('base64') } } as Secret);
    await admin.create(externalSecrets, externalSecret('into-existing', { target: { name: 'shared', creationPolicy: 'CreateOrMerge' }, data: [{ secretKey: 'a', remoteRef: { key: 'a' } }] }));
    await admin.create(externalSecrets, externalSecret('into-missing', { target: { name: 'fresh', creationPolicy: 'CreateOrMerge' }, data: [{ secretKey: 'a', remoteRef: { key: 'a' } }] }));
    await waitReady(admin, ns, 'into-existing', 'True');
    await waitReady(admin, ns, 'into-missing', 'True');
    const shared = await admin.get<Secret>(core.secrets, ns, 'shared');
    assert.deepEqual(decodeSecret(shared), { other: 'keep', a: 'value-a' });
    const fresh = await admin.get<Secret>(core.secrets, ns, 'fresh');
    assert.deepEqual(decodeSecret(fresh), { a: 'value-a' });
    assert.equal(fresh.metadata?.ownerReferences, undefined);
    // Synced again after a spec change that leaves the data alone: the Secret it created is up
    // to date (it was written as Merge writes, and Merge now finds it), so it is not rewritten.
    const rv = fresh.metadata?.resourceVersion;
    const patched = await admin.patch<KubeObject>(externalSecrets, ns, 'into-missing', 'merge', { spec: { refreshInterval: '2h' } });
    await waitFor('into-missing synced its new spec', async () => {
      const es = await admin.get<KubeObject & { status?: { syncedResourceVersion?: string } }>(externalSecrets, ns, 'into-missing');
      return es.status?.syncedResourceVersion === syncedVersion(patched as never) ? true : undefined;
    }, 30_000);
    assert.equal((await admin.get<Secret>(core.secrets, ns, 'fresh')).metadata?.resourceVersion, rv);
  });

  it('nullBytePolicy Fail refuses a value with a NUL byte in status, naming the key; unset keeps it', async () => {
    await admin.create(externalSecrets, externalSecret('nul-fail', { data: [{ secretKey: 'bin', remoteRef: { key: 'bin', decodingStrategy: 'Base64', nullBytePolicy: 'Fail' } }] }));
    await admin.create(externalSecrets, externalSecret('nul-kept', { data: [{ secretKey: 'bin', remoteRef: { key: 'bin', decodingStrategy: 'Base64' } }] }));
    const failed = await waitReady(admin, ns, 'nul-fail', 'False', /null bytes/);
    assert.match(failed.message ?? '', /key "bin" contains null bytes/);
    await waitReady(admin, ns, 'nul-kept', 'True');
    const kept = await admin.get<Secret>(core.secrets, ns, 'nul-kept');
    assert.deepEqual([...Buffer.from(kept.data!['bin']!, 'base64')], [0x61, 0x00, 0x62]);
  });

  it('templateFrom target in lower case, with valuesDecodingStrategy', async () => {
    await admin.create(externalSecrets, externalSecret('tpl', {
      data: [{ secretKey: 'user', remoteRef: { key: 'user' } }],
      target: { template: { templateFrom: [
        { target: 'data', valuesDecodingStrategy: 'Base64', literal: 'login: "{{ .user | b64enc }}"' },
        { target: 'annotations', literal: 'example.com/who: "{{ .user }}"' },
      ] } },
    }));
    await waitReady(admin, ns, 'tpl', 'True');
    const s = await admin.get<Secret>(core.secrets, ns, 'tpl');
    assert.deepEqual(decodeSecret(s), { login: 'admin' });
    assert.equal(s.metadata?.annotations?.['example.com/who'], 'admin');
  });
});

describe('stores of ESO 2.9', () => {
  it('a refreshInterval duration string sets how often the store is validated', async () => {
    await admin.create(secretStores, {
      apiVersion: 'external-secrets.io/v1',
      kind: 'SecretStore',
      metadata: { name: 'fast', namespace: ns },
      spec: { controller: controllerClass, refreshInterval: '1s', provider: { fake: { data: [] } } },
    } as KubeObject);
    assert.equal((await storeReady('fast')).status, 'True');
    const before = await storeRequeues();
    await new Promise((r) => setTimeout(r, 4_500));
    const revalidations = (await storeRequeues()) - before;
    // Every 1 s (the default would be minutes): expect about four, allow a loaded machine.
    assert.ok(revalidations >= 2, `${revalidations} revalidations in 4.5 s`);
  });

  it('AWS service CertificateManager is admitted and reported as unsupported on the store', async () => {
    await admin.create(secretStores, {
      apiVersion: 'external-secrets.io/v1',
      kind: 'SecretStore',
      metadata: { name: 'acm', namespace: ns },
      spec: { controller: controllerClass, provider: { aws: { service: 'CertificateManager', region: 'eu-west-1' } } },
    } as KubeObject);
    const ready = await storeReady('acm');
    assert.equal(ready.status, 'False');
    assert.equal(ready.reason, 'InvalidProviderConfig');
    assert.match(ready.message, /spec\.provider\.aws\.service: "CertificateManager" is not supported by this build of Tessera/);
  });
});
