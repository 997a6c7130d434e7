// ClusterExternalSecret against the real apiserver, kube-controller-manager (garbage collection)
// and the operator as its own process under the RBAC we ship: namespaces that start or stop
// matching (by a label change, or by being created) gain or lose their ExternalSecret at once, not
// at refreshTime; an ExternalSecret of the same name that the ClusterExternalSecret did not create
// is left alone and reported; deletion cleans up, also with ESO's finalizers on the
// ClusterExternalSecret and on a namespace, as ESO 2.9 leaves them. ESO's documentation examples
// of the kind are admitted as they are.
//
// Isolation on the shared apiserver: the ClusterSecretStore carries this file's controller class
// (so no other operator syncs these ExternalSecrets, and no other ClusterExternalSecret controller
// of another class touches this ClusterExternalSecret), and the namespace label key is unique to
// this run, so the selectors match only this file's namespaces.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { KubeClient } from '../../src/kube/client.ts';
import { ApiError } from '../../src/kube/client.ts';
import { core, type KubeObject, type Secret } from '../../src/kube/types.ts';
import { parseManifests } from '../../src/kube/manifests.ts';
import { clusterExternalSecrets, clusterSecretStores, externalSecrets } from '../../src/controllers/resources.ts';
import { FINALIZER_ESO_CLUSTEREXTERNALSECRET } from '../../src/api/constants.ts';
import type { ClusterExternalSecret, ExternalSecret } from '../../src/api/types.generated.ts';
import { manifestsIn } from '../peers/operator.ts';
import { adminClient, decodeSecret, onCleanup, peers, uniqueName, waitFor, waitReady } from './helpers.ts';
import { installTessera, startOperator, type Operator } from './operator.ts';

type CES = ClusterExternalSecret & KubeObject;
type ES = ExternalSecret & KubeObject;

let admin: KubeClient;
let op: Operator;
const controllerClass = uniqueName('ces-it');
const store = uniqueName('ces-it-store');
/** A label key no other test uses: the selectors of this file match only its namespaces. */
const labelKey = `${uniqueName('ces-it')}.tessera.test/team`;


async function namespace(labels: Record<string, string> = {}, finalizers?: string[]): Promise<string> {
  const name = uniqueName('ces-it');
  await admin.create(core.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels, ...(finalizers ? { finalizers } : {}) } });
  onCleanup(async () => {
    await admin.patch(core.namespaces, undefined, name, 'merge', { metadata: { finalizers: null } }).catch(() => undefined);
    await admin.delete(core.namespaces, undefined, name).catch(() => undefined);
  });
  return name;
}

const relabel = (ns: string, value: string | null) => admin.patch(core.namespaces, undefined, ns, 'merge', { metadata: { labels: { [labelKey]: value } } });

/** A ClusterExternalSecret selecting the namespaces labelled `labelKey=<match>` (one value per test). */
function clusterExternalSecret(name: string, match: string, spec: Partial<CES['spec']> = {}, finalizers?: string[]): CES {
  return {
    apiVersion: 'external-secrets.io/v1',
    kind: 'ClusterExternalSecret',
    metadata: { name, ...(finalizers ? { finalizers } : {}) },
    spec: {
      namespaceSelectors: [{ matchLabels: { [labelKey]: match } }],
      // Long, so that what happens within the test's timeouts is the reaction to events.
      refreshTime: '1h',
      externalSecretMetadata: { labels: { fanout: 'yes' }, annotations: { note: 'from the cluster' } },
      externalSecretSpec: {
        secretStoreRef: { kind: 'ClusterSecretStore', name: store },
        refreshInterval: '1h',
        data: [{ secretKey: 'token', remoteRef: { key: 'registry-token' } }],
      },
      ...spec,
    },
  } as CES;
}

async function createCes(obj: CES): Promise<void> {
  await admin.create(clusterExternalSecrets, obj);
  onCleanup(async () => {
    await admin.patch(clusterExternalSecrets, undefined, obj.metadata.name!, 'merge', { metadata: { finalizers: null } }).catch(() => undefined);
    await admin.delete(clusterExternalSecrets, undefined, obj.metadata.name!).catch(() => undefined);
  });
}

const getCes = (name: string) => admin.tryGet<CES>(clusterExternalSecrets, undefined, name);
const getEs = (ns: string, name: string) => admin.tryGet<ES>(externalSecrets, ns, name);

function waitEs(ns: string, name: string, what = 'created'): Promise<ES> {
  return waitFor(`ExternalSecret ${ns}/${name} ${what}`, async () => getEs(ns, name), 15_000, 100);
}
function waitEsGone(ns: string, name: string): Promise<true> {
  return waitFor(`ExternalSecret ${ns}/${name} deleted`, async () => ((await getEs(ns, name)) ? undefined : true), 15_000, 100);
}
function waitStatus(name: string, test: (s: NonNullable<CES['status']>) => boolean, what: string): Promise<NonNullable<CES['status']>> {
  return waitFor(`ClusterExternalSecret ${name} status: ${what}`, async () => {
    const s = (await getCes(name))?.status;
    return s && test(s) ? s : undefined;
  }, 15_000, 100);
}

before(async () => {
  const env = await peers();
  admin = await adminClient('tessera-test-ces');
  await installTessera(admin);
  // The ClusterRole we ship, under a name of this file's: other files re-apply the shared
  // tessera-controller role from their own checkout while this one runs.
  const role = manifestsIn('deploy/rbac').find((o) => o.kind === 'ClusterRole')! as KubeObject & { rules: unknown[] };
  const roleName = uniqueName('tessera-ces-it');
  await admin.request('POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', { body: { ...role, metadata: { name: roleName } } });
  await admin.request('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: roleName }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName }, subjects: [{ kind: 'ServiceAccount', name: 'tessera', namespace: 'tessera-system' }] },
  });
  onCleanup(async () => {
    await admin.request('DELETE', `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${roleName}`).catch(() => undefined);
    await admin.request('DELETE', `/apis/rbac.authorization.k8s.io/v1/clusterroles/${roleName}`).catch(() => undefined);
  });
  await admin.create(clusterSecretStores, {
    apiVersion: 'external-secrets.io/v1',
    kind: 'ClusterSecretStore',
    metadata: { name: store },
    spec: { controller: controllerClass, provider: { fake: { data: [{ key: 'registry-token', value: 'not-a-real-token' }] } } },
  } as KubeObject);
  onCleanup(() => admin.delete(clusterSecretStores, undefined, store).catch(() => undefined));
  op = await startOperator(admin, env, [`--controller-class=${controllerClass}`]);
});

describe('ClusterExternalSecret', () => {
  it('follows namespace labels in both directions, and provisions a new matching namespace at once', async () => {
    const name = uniqueName('ces-follow');
    const a = await namespace({ [labelKey]: 'follow' });
    const b = await namespace({ [labelKey]: 'no' });
    await createCes(clusterExternalSecret(name, 'follow'));

    const es = await waitEs(a, name);
    assert.deepEqual(es.metadata.ownerReferences?.map((r) => [r.kind, r.name, r.controller]), [['ClusterExternalSecret', name, true]]);
    assert.deepEqual(es.metadata.labels, { fanout: 'yes' });
    assert.deepEqual(es.metadata.annotations, { note: 'from the cluster' });
    // The ExternalSecret it made syncs like any other, under this operator's class.
    await waitReady(admin, a, name, 'True');
    assert.deepEqual(decodeSecret(await admin.tryGet<Secret>(core.secrets, a, name)), { token: 'not-a-real-token' });
    let status = await waitStatus(name, (s) => (s.provisionedNamespaces ?? []).includes(a), `provisions ${a}`);
    assert.equal(status.externalSecretName, name);
    assert.deepEqual(status.conditions, [{ type: 'Ready', status: 'True' }]);
    assert.equal(await getEs(b, name), undefined, 'not in a namespace the selector does not match');
    const metrics = await op.metrics();
    assert.match(metrics, new RegExp(`clusterexternalsecret_status_condition\\{name="${name}",namespace="",condition="Ready",status="True"\\} 1`));
    assert.match(metrics, new RegExp(`clusterexternalsecret_reconcile_duration\\{name="${name}",namespace=""\\} [1-9]`));

    // A change of the ClusterExternalSecret reaches its ExternalSecrets; what others put on them
    // (a finalizer) stays.
    await admin.patch(externalSecrets, a, name, 'merge', { metadata: { finalizers: ['example.com/keep'] } });
    await admin.patch(clusterExternalSecrets, undefined, name, 'merge', { spec: { externalSecretMetadata: { labels: { fanout: 'changed' } }, externalSecretSpec: { refreshInterval: '30m' } } });
    const updated = await waitFor('the ExternalSecret updated', async () => {
      const e = await getEs(a, name);
      return e?.metadata.labels?.fanout === 'changed' && e.spec.refreshInterval === '30m' ? e : undefined;
    }, 15_000, 100);
    assert.deepEqual(updated.metadata.finalizers, ['example.com/keep']);
    await admin.patch(externalSecrets, a, name, 'merge', { metadata: { finalizers: null } });

    // b starts matching, a stops: well before refreshTime (1h).
    await relabel(b, 'follow');
    await waitEs(b, name);
    await relabel(a, 'no');
    await waitEsGone(a, name);
    status = await waitStatus(name, (s) => JSON.stringify(s.provisionedNamespaces) === JSON.stringify([b]), `provisions only ${b}`);
    assert.equal(status.failedNamespaces, undefined);
    // And back again.
    await relabel(a, 'follow');
    await waitEs(a, name, 'created again');

    // A namespace created with the label is provisioned as it appears.
    const c = await namespace({ [labelKey]: 'follow' });
    await waitEs(c, name);
    await waitStatus(name, (s) => (s.provisionedNamespaces ?? []).length === 3, 'three namespaces');
  });

  it('an ExternalSecret it did not create is never overwritten; it is reported, and replaced only once it is gone', async () => {
    const name = uniqueName('ces-foreign');
    const ns = await namespace({});
    const foreign = await admin.create<ES>(externalSecrets, {
      apiVersion: 'external-secrets.io/v1',
      kind: 'ExternalSecret',
      metadata: { name, namespace: ns, labels: { mine: 'true' } },
      spec: { secretStoreRef: { kind: 'SecretStore', name: 'elsewhere' }, refreshInterval: '1h', data: [{ secretKey: 'x', remoteRef: { key: 'y' } }] },
    } as ES);
    await createCes(clusterExternalSecret(name, 'foreign'));
    await relabel(ns, 'foreign');
    const status = await waitStatus(name, (s) => (s.failedNamespaces ?? []).length > 0, 'a failed namespace');
    assert.deepEqual(status.failedNamespaces, [{ namespace: ns, reason: 'external secret already exists in namespace' }]);
    assert.deepEqual(status.conditions, [{ type: 'Ready', status: 'False', message: 'one or more namespaces failed' }]);
    assert.equal(status.provisionedNamespaces, undefined);
    const after = (await getEs(ns, name))!;
    // Its status is its store's business (an ExternalSecret controller reports the missing store);
    // its spec and metadata are untouched.
    assert.equal(after.metadata.generation, foreign.metadata.generation, 'spec not written');
    assert.deepEqual(after.spec, foreign.spec);
    assert.deepEqual(after.metadata.labels, { mine: 'true' });
    assert.equal(after.metadata.annotations, undefined);
    assert.equal(after.metadata.ownerReferences, undefined);

    // Its owner deletes it: the ClusterExternalSecret takes the name at once.
    await admin.delete(externalSecrets, ns, name);
    const ours = await waitFor('the ClusterExternalSecret\'s own ExternalSecret', async () => {
      const es = await getEs(ns, name);
      return es?.metadata.ownerReferences?.some((r) => r.kind === 'ClusterExternalSecret') ? es : undefined;
    }, 15_000, 100);
    assert.deepEqual(ours.spec.secretStoreRef, { kind: 'ClusterSecretStore', name: store });
    await waitStatus(name, (s) => s.failedNamespaces === undefined && s.conditions?.[0]?.status === 'True', 'Ready again');
  });

  it('deleted with ESO\'s finalizers (on it and on a namespace it provisioned): the delete completes, its ExternalSecrets go, the namespace is released', async () => {
    const name = uniqueName('ces-del');
    const nsFinalizer = `externalsecrets.external-secrets.io/ces-${name}`;
    const a = await namespace({ [labelKey]: 'del' }, [nsFinalizer]);
    const b = await namespace({ [labelKey]: 'del' });
    await createCes(clusterExternalSecret(name, 'del', {}, [FINALIZER_ESO_CLUSTEREXTERNALSECRET]));
    await waitEs(a, name);
    await waitEs(b, name);
    // Tessera needs no namespace finalizer: ESO's is removed while the namespace is provisioned.
    await waitFor(`ESO's finalizer removed from ${a}`, async () => {
      const n = await admin.tryGet<KubeObject>(core.namespaces, undefined, a);
      return n && !(n.metadata?.finalizers ?? []).includes(nsFinalizer);
    }, 15_000, 100);

    const t0 = Date.now();
    await admin.delete(clusterExternalSecrets, undefined, name);
    await waitFor(`ClusterExternalSecret ${name} gone`, async () => ((await getCes(name)) ? undefined : true), 15_000, 100);
    assert.ok(Date.now() - t0 < 15_000);
    await waitEsGone(a, name);
    await waitEsGone(b, name);
  });

  it('deleted without a finalizer: the garbage collector removes its ExternalSecrets (owner references)', async () => {
    const name = uniqueName('ces-gc');
    const a = await namespace({ [labelKey]: 'gc' });
    await createCes(clusterExternalSecret(name, 'gc', { externalSecretName: 'regcred' }));
    await waitEs(a, 'regcred');
    await admin.delete(clusterExternalSecrets, undefined, name);
    await waitFor(`ExternalSecret ${a}/regcred collected`, async () => ((await getEs(a, 'regcred')) ? undefined : true), 30_000, 200);
  });
});

/** The parts of `stored` at the paths `written` has: what remains of a written object after admission. */
function pick(stored: unknown, written: unknown): unknown {
  if (Array.isArray(written)) return Array.isArray(stored) ? written.map((w, i) => pick(stored[i], w)) : stored;
  if (written === null || typeof written !== 'object' || stored === null || typeof stored !== 'object') return stored;
  const s = stored as Record<string, unknown>;
  return Object.fromEntries(Object.keys(written).filter((k) => k in s).map((k) => [k, pick(s[k], (written as Record<string, unknown>)[k])]));
}

describe('admission', () => {
  /** Sends a ClusterExternalSecret through admission (dryRun=All); returns what would be stored. */
  const admit = (obj: KubeObject, version = 'v1') => admin.request<CES>('POST', `/apis/external-secrets.io/${version}/clusterexternalsecrets`, { query: { dryRun: 'All' }, body: { ...obj, apiVersion: `external-secrets.io/${version}` } });

  it('ESO\'s documentation examples of ClusterExternalSecret apply as they are', async () => {
    const text = readFileSync(new URL('../fixtures/eso-docs/clusterexternalsecrets.yaml', import.meta.url), 'utf8');
    const objs = parseManifests(text).filter((o) => o.kind === 'ClusterExternalSecret');
    assert.equal(objs.length, 2);
    for (const obj of objs) {
      const out = await admit(obj);
      assert.equal(out.metadata.name, obj.metadata?.name);
      // Every field written is stored as written (defaults may be added), except one: the full example's
      // `dataFrom: [{key, version, property}]` is the v1alpha1 shape, which ESO's v1 schema has no field for
      // and prunes, as ours does.
      const written = structuredClone((obj as CES).spec);
      if (obj.metadata?.name === 'hello-world') written.externalSecretSpec.dataFrom = [{}];
      assert.deepEqual(pick(out.spec, written), written, `${obj.metadata?.name}: a field was dropped or changed`);
    }
  });

  it('v1beta1 is served too', async () => {
    const out = await admit(clusterExternalSecret(uniqueName('beta'), 'beta'), 'v1beta1');
    assert.equal(out.spec.refreshTime, '1h');
  });

  it('oversized or malformed selectors are refused, naming the field', async () => {
    const refusal = async (spec: Partial<CES['spec']>): Promise<string> => {
      try {
        await admit(clusterExternalSecret(uniqueName('bad'), 'bad', spec));
      } catch (e) {
        assert.ok(e instanceof ApiError && e.code === 422, String(e));
        return e.message;
      }
      assert.fail(`admitted: ${JSON.stringify(spec).slice(0, 200)}`);
    };
    assert.match(await refusal({ namespaceSelectors: Array.from({ length: 65 }, () => ({ matchLabels: { a: 'b' } })) }), /spec\.namespaceSelectors: Too many: 65: must have at most 64 items/);
    assert.match(await refusal({ namespaceSelectors: [{ matchExpressions: [{ key: 'a', operator: 'Near' as 'In' }] }] }), /spec\.namespaceSelectors\[0\]\.matchExpressions\[0\]\.operator: Unsupported value: "Near"/);
    assert.match(await refusal({ namespaces: ['Not_A_Namespace'] }), /spec\.namespaces\[0\]/);
    assert.match(await refusal({ refreshTime: 'soon' }), /spec\.refreshTime/);
    assert.match(await refusal({ externalSecretName: 'x'.repeat(254) }), /spec\.externalSecretName/);
  });

  it('printer columns are ESO\'s', async () => {
    const crd = await admin.request<any>('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/clusterexternalsecrets.external-secrets.io');
    for (const v of crd.spec.versions) assert.deepEqual(v.additionalPrinterColumns.map((c: any) => c.name), ['Store', 'Refresh Interval', 'Ready']);
    assert.deepEqual(crd.spec.names.shortNames, ['ces']);
  });
});
