// The adversarial suite of issue 9: each replayable finding, run as a tenant against the operator
// process under its shipped RBAC, while a second tenant's fresh ExternalSecret must reach Ready
// within 15 s, /healthz must answer within 1 s, and the process must survive (see harness.ts).
// The attacker's own ExternalSecret must end with a clear status, and nothing of another owner is
// wiped; secret values (planted markers) appear nowhere in status, events or logs.
import { before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { core, type KubeObject, type Secret } from '../../../src/kube/types.ts';
import type { ExternalSecret } from '../../../src/api/types.generated.ts';
import { clusterSecretStores, externalSecrets, secretStores } from '../../../src/controllers/resources.ts';
import {
  withCreationPolicy, withData, withExtract, withFind, withRefresh, withTargetName, withTemplate,
} from '../../fixtures/builders.ts';
import {
  aClusterSecretStore, aSecretStore, withController, withFakeData, withKubeconfigAuthRef, withNamespaceConditions,
  withStoreName, withStoreNamespace, withStoreRefresh, withVault,
} from '../../fixtures/stores.ts';
import { decodeSecret, freshNamespace, onCleanup } from '../helpers.ts';
import {
  aBystander, captureServer, fakeTenant, findMarker, metricSum, namespaceTexts, oversizeServer, plantMarker, report,
  scrape, sleep, slowDripServer, startTestOperator, suite, tenantES, waitCondition, waitFor, whileAttacked, withstood,
  type AttackFigures, type Bystander, type Suite, type Tenant, type TestOperator,
} from './harness.ts';

let s: Suite;

before(async () => {
  s = await suite(['etcd', 'kube-apiserver', 'kube-controller-manager', 'bao']);
});

/** A fresh operator and bystander for one test; the operator is killed when the test ends. */
async function arena(t: TestContext, o: { env?: Record<string, string>; args?: string[] } = {}): Promise<{ op: TestOperator; by: Bystander }> {
  const op = await startTestOperator(s, o);
  t.after(() => op.kill(2000));
  const by = await aBystander(s, op);
  return { op, by };
}

/** Asserts the three promises, after printing the figures. */
function assertWithstood(t: TestContext, figures: AttackFigures<unknown>): void {
  report(t, figures);
  assert.deepEqual(withstood(figures), [], 'the attack cost other tenants');
}

/** Throws the attack's own failure (after the figures are asserted). */
function attackOutcome<T>(figures: AttackFigures<T>): T {
  if (figures.attackError !== undefined) assert.fail(`attacker's outcome: ${figures.attackError}`);
  return figures.attackResult as T;
}

const es = (tenant: Tenant, name: string) => ({
  create: (...options: Array<(x: ExternalSecret) => void>) =>
    s.admin.create(externalSecrets, tenantES(tenant, name, ...options)),
  ready: (status: 'True' | 'False', match?: RegExp, timeoutMs?: number) => waitCondition(s.admin, externalSecrets, tenant.ns, name, status, match, timeoutMs),
});

async function secretData(ns: string, name: string): Promise<Record<string, string> | undefined> {
  const sec = await s.admin.tryGet<Secret>(core.secrets, ns, name);
  return sec ? decodeSecret(sec) : undefined;
}

async function errorCount(op: TestOperator, ns: string, reason: string): Promise<number> {
  return metricSum(await scrape(op, ['externalsecret_sync_calls_error']), 'externalsecret_sync_calls_error', { namespace: ns, reason });
}

// A key on which (a+)+$ backtracks exponentially in a backtracking engine: 30 characters took 22 s,
// 40 hang for good. Valid as a Secret key, so with RE2 the sync simply succeeds.
const EVIL_KEY = `${'a'.repeat(40)}b`;

describe('ReDoS (finding 2): RE2 semantics in linear time', { timeout: 240_000 }, () => {
  it('dataFrom.rewrite.regexp (a+)+$ on a 41-character key', async (t) => {
    const { op, by } = await arena(t);
    const attacker = await fakeTenant(s, op, { [EVIL_KEY]: 'v1', aaaa: 'v2' }, 'redos-rewrite');
    const e = es(attacker, 'rewrite');
    const figures = await whileAttacked(async () => {
      await e.create(withFind({ name: { regexp: '^a' } }, [{ regexp: { source: '(a+)+$', target: 'x' } }]));
      return e.ready('True', /./, 30_000);
    }, { bystander: by, operator: op });
    assertWithstood(t, figures);
    attackOutcome(figures);
    // Go: "aaaa" matches whole and becomes "x"; the long key has no match and stays.
    assert.deepEqual(await secretData(attacker.ns, 'rewrite'), { [EVIL_KEY]: 'v1', x: 'v2' });
  });

  it('dataFrom.find.name.regexp ^(a+)+$ over a 41-character key', async (t) => {
    const { op, by } = await arena(t);
    const attacker = await fakeTenant(s, op, { [EVIL_KEY]: 'v1', aaaa: 'v2' }, 'redos-find');
    const e = es(attacker, 'find');
    const figures = await whileAttacked(async () => {
      await e.create(withFind({ name: { regexp: '^(a+)+$' } }));
      return e.ready('True', /./, 30_000);
    }, { bystander: by, operator: op });
    assertWithstood(t, figures);
    attackOutcome(figures);
    assert.deepEqual(await secretData(attacker.ns, 'find'), { aaaa: 'v2' });
  });

  it('template regexMatch "^(a+)+$" on a 41-character value', async (t) => {
    const { op, by } = await arena(t);
    const attacker = await fakeTenant(s, op, { long: EVIL_KEY }, 'redos-tpl');
    const e = es(attacker, 'tpl');
    const figures = await whileAttacked(async () => {
      await e.create(withData('long', 'long'), withTemplate({ data: { out: '{{ regexMatch "^(a+)+$" .long }}' } }));
      return e.ready('True', /./, 30_000);
    }, { bystander: by, operator: op });
    assertWithstood(t, figures);
    attackOutcome(figures);
    assert.deepEqual(await secretData(attacker.ns, 'tpl'), { out: 'false' });
  });
});

describe('untrusted computation (findings 3 and 5): a budget per render', { timeout: 240_000 }, () => {
  // With the heap the deployment recommends: the bomb must fail the render, not the process.
  const heap = { NODE_OPTIONS: '--max-old-space-size=150' };
  const bombs: Array<[string, string]> = [
    ['{{ seq 1 100000000 | len }}', 'seq'],
    ['{{ repeat 100000000 "a" }}', 'repeat'],
    // Pure CPU (no output): 200 million iterations, about the 34 s stall of the finding.
    ['{{ range $i := until 20000 }}{{ range $j := until 10000 }}{{ end }}{{ end }}', 'nested-range'],
  ];
  for (const [template, name] of bombs) {
    it(`${template} fails that ExternalSecret with "compute budget exceeded"`, async (t) => {
      const { op, by } = await arena(t, { env: heap });
      const attacker = await fakeTenant(s, op, { k: 'v' }, `bomb-${name}`);
      const e = es(attacker, name);
      const figures = await whileAttacked(async () => {
        await e.create(withData('k', 'k'), withTemplate({ data: { out: template } }));
        return e.ready('False', /compute budget exceeded/, 45_000);
      }, { bystander: by, operator: op });
      assertWithstood(t, figures);
      const c = attackOutcome(figures);
      assert.match(c.message ?? '', /^could not update secret: compute budget exceeded: /);
      assert.ok((await errorCount(op, attacker.ns, 'ComputeBudgetExceeded')) >= 1, 'metric externalsecret_sync_calls_error{reason="ComputeBudgetExceeded"}');
      assert.equal(await s.admin.tryGet(core.secrets, attacker.ns, name), undefined, 'no Secret written');
    });
  }
});

describe('hostile provider endpoints (findings 3 and 4): deadline, size cap, bulkhead', { timeout: 300_000 }, () => {
  async function vaultTenant(op: TestOperator, server: string, prefix: string): Promise<Tenant> {
    const ns = await freshNamespace(s.admin, prefix);
    await s.admin.create(core.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'vault-token', namespace: ns }, stringData: { token: 'hostile' } } as Secret);
    await s.admin.create(secretStores, aSecretStore(withStoreName('vault'), withStoreNamespace(ns), withController(op.controllerClass),
      withVault(server, { name: 'vault-token', key: 'token' })) as unknown as KubeObject);
    return { ns, store: 'vault', controllerClass: op.controllerClass };
  }

  it('a server dripping one byte every 3 s holds only its own ExternalSecrets, and each call has a deadline', async (t) => {
    const { op, by } = await arena(t);
    const drip = await slowDripServer(3000);
    const attacker = await vaultTenant(op, drip.url, 'drip');
    // More ExternalSecrets than workers (16): without a bulkhead they pin every worker.
    const names = Array.from({ length: 20 }, (_, i) => `drip-${i}`);
    const figures = await whileAttacked(async () => {
      for (const n of names) await es(attacker, n).create(withData('k', `app/${n}`));
      // The first deadline to pass fails its ExternalSecret; the others queue behind the bulkhead.
      return waitFor('an attacker ExternalSecret to fail with a deadline', async () => {
        for (const n of names) {
          const c = (await s.admin.tryGet<KubeObject & { status?: { conditions?: Array<{ type: string; status: string; message?: string }> } }>(externalSecrets, attacker.ns, n))
            ?.status?.conditions?.find((x) => x.type === 'Ready');
          if (c?.status === 'False' && /deadline|timed out|too large|size cap/i.test(c.message ?? '')) return c;
        }
        return undefined;
      }, 90_000, 500);
    }, { bystander: by, operator: op });
    assertWithstood(t, figures);
    t.diagnostic(`drip server saw ${drip.requests.length} requests`);
    attackOutcome(figures);
  });

  it('a server answering with a 600 MB body fails its ExternalSecret ("too large"), the process lives', async (t) => {
    const { op, by } = await arena(t);
    const big = await oversizeServer();
    const attacker = await vaultTenant(op, big.url, 'oversize');
    const e = es(attacker, 'big');
    const figures = await whileAttacked(async () => {
      await e.create(withData('k', 'app/big'));
      return e.ready('False', /deadline|timed out|too large|size cap/i, 60_000);
    }, { bystander: by, operator: op });
    assertWithstood(t, figures);
    attackOutcome(figures);
  });
});

describe('timer overflow (finding 6): durations clamped at the timer limit', { timeout: 180_000 }, () => {
  it('refreshInterval "10000h": no reconcile storm over 10 s', async (t) => {
    const { op, by } = await arena(t);
    const attacker = await fakeTenant(s, op, { k: 'v' }, 'timer-es');
    const e = es(attacker, 'long');
    // A refresh that is not due returns before the sync counter, so the storm shows in the
    // controller's reconciles. Those also count other people's ExternalSecrets on the shared
    // peers (empty spec.controller), hence a generous bound: the finding was ~800 per second.
    const counts = async () => {
      const text = await scrape(op, ['externalsecret_sync_calls_total', 'controller_runtime_reconcile_total']);
      return {
        syncs: metricSum(text, 'externalsecret_sync_calls_total', { namespace: attacker.ns }),
        reconciles: metricSum(text, 'controller_runtime_reconcile_total', { controller: 'externalsecret' }),
      };
    };
    const figures = await whileAttacked(async () => {
      await e.create(withData('k', 'k'), withRefresh('10000h'));
      await e.ready('True');
      const before = await counts();
      await sleep(10_000);
      return { before, after: await counts() };
    }, { bystander: by, operator: op, minWindowMs: 12_000 });
    assertWithstood(t, figures);
    const { before, after } = attackOutcome(figures);
    t.diagnostic(`in 10 s: externalsecret_sync_calls_total{namespace=${attacker.ns}} ${before.syncs} → ${after.syncs}; controller_runtime_reconcile_total{controller=externalsecret} ${before.reconciles} → ${after.reconciles}`);
    assert.ok(before.syncs >= 1, 'the metric counts this namespace');
    assert.ok(after.syncs - before.syncs <= 3, `${after.syncs - before.syncs} syncs in 10 s for a 10000h refreshInterval`);
    assert.ok(after.reconciles - before.reconciles <= 1000, `${after.reconciles - before.reconciles} reconciles in 10 s`);
  });

  it('store refreshInterval 2147484 s: no more than a few provider calls in 10 s', async (t) => {
    const { op, by } = await arena(t);
    const ns = await freshNamespace(s.admin, 'timer-store');
    await s.admin.create(core.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'vault-token', namespace: ns }, stringData: { token: s.env.VAULT_TOKEN } } as Secret);
    const store = `SecretStore/${ns}/vault`;
    const calls = async () => metricSum(await scrape(op, ['externalsecret_provider_api_calls_count']), 'externalsecret_provider_api_calls_count', { store });
    const figures = await whileAttacked(async () => {
      await s.admin.create(secretStores, aSecretStore(withStoreName('vault'), withStoreNamespace(ns), withController(op.controllerClass), withStoreRefresh(2_147_484),
        withVault(s.env.VAULT_ADDR, { name: 'vault-token', key: 'token' })) as unknown as KubeObject);
      await waitCondition(s.admin, secretStores, ns, 'vault', 'True');
      const before = await waitFor('a provider call of the store to be counted', calls);
      await sleep(10_000);
      return { before, after: await calls() };
    }, { bystander: by, operator: op, minWindowMs: 12_000 });
    assertWithstood(t, figures);
    const { before, after } = attackOutcome(figures);
    t.diagnostic(`externalsecret_provider_api_calls_count{store="${store}"}: ${before} → ${after} in 10 s`);
    assert.ok(after - before <= 3, `${after - before} Vault calls in 10 s for a 2147484 s store refreshInterval`);
  });
});

describe('cross-tenant read (finding 1): tenant kubeconfigs name no file of the controller', { timeout: 240_000 }, () => {
  // Each field client-node would read from the controller's filesystem, with the file planted on
  // that filesystem (the test and the operator share it): its content must never be used.
  const dir = mkdtempSync(path.join(tmpdir(), 'tessera-planted-'));
  const variants: Array<{ name: string; field: RegExp; user: (file: string) => string; cluster?: (file: string) => string }> = [
    { name: 'token-file', field: /token-file: names a file on the controller's filesystem/, user: (f) => `token-file: ${f}` },
    { name: 'client-certificate', field: /(client-certificate|client-key): names a file on the controller's filesystem/, user: (f) => `client-certificate: ${f}\n    client-key: ${f}` },
    { name: 'certificate-authority', field: /certificate-authority: names a file on the controller's filesystem/, user: () => 'token: inline-token', cluster: (f) => `certificate-authority: ${f}` },
  ];

  it('token-file, client-certificate/client-key and certificate-authority are refused, nothing read or sent', async (t) => {
    const { op, by } = await arena(t);
    const capture = await captureServer();
    const ns = await freshNamespace(s.admin, 'kubeconfig');
    const marker = plantMarker();
    const planted = path.join(dir, 'token');
    writeFileSync(planted, marker);
    for (const v of variants) {
      const kubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: ${capture.url}
    ${v.cluster?.(planted) ?? ''}
users:
- name: u
  user:
    ${v.user(planted)}
contexts:
- name: x
  context: { cluster: c, user: u }
current-context: x
`;
      // Neutral names: the messages name the store, which must not satisfy the field regexp.
      const i = variants.indexOf(v);
      await s.admin.create(core.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: `kc-${i}`, namespace: ns }, stringData: { config: kubeconfig } } as Secret);
      await s.admin.create(secretStores, aSecretStore(withStoreName(`store-${i}`), withStoreNamespace(ns), withController(op.controllerClass),
        withKubeconfigAuthRef({ name: `kc-${i}`, key: 'config' })) as unknown as KubeObject);
    }
    const tenant = (i: number): Tenant => ({ ns, store: `store-${i}`, controllerClass: op.controllerClass });
    const figures = await whileAttacked(async () => {
      const out: Record<string, string> = {};
      for (const [i] of variants.entries()) await es(tenant(i), `victim-${i}`).create(withData('k', 'victim'));
      for (const [i, v] of variants.entries()) out[v.name] = (await es(tenant(i), `victim-${i}`).ready('False', v.field, 30_000)).message ?? '';
      for (const [i, v] of variants.entries()) await waitCondition(s.admin, secretStores, ns, `store-${i}`, 'False', v.field, 30_000);
      return out;
    }, { bystander: by, operator: op });
    report(t, figures);
    t.diagnostic(`capture server saw ${capture.requests.length} requests`);
    // The critical promise first: the controller's file never reaches the tenant's server.
    const sentMarker = capture.requests.filter((r) => (r.authorization ?? '').includes(marker));
    assert.deepEqual(sentMarker, [], 'the planted token was sent to the tenant-named server');
    assert.deepEqual(findMarker(marker, { ...(await namespaceTexts(s.admin, ns)), logs: op.logs.join('\n') }), []);
    assert.deepEqual(withstood(figures), [], 'the attack cost other tenants');
    attackOutcome(figures);
  });
});

describe('ownership (finding 7): nothing Tessera does not own is wiped or taken over', { timeout: 180_000 }, () => {
  it('Merge, then Owner, on a foreign Secret: the Owner ExternalSecret is refused and the foreign keys remain', async (t) => {
    const { op, by } = await arena(t);
    const attacker = await fakeTenant(s, op, { m: 'merged', z: 'taken' }, 'takeover');
    const foreign = { a: 'keep-a', b: 'keep-b' };
    await s.admin.create(core.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'foreign', namespace: attacker.ns }, stringData: foreign } as Secret);
    const figures = await whileAttacked(async () => {
      await es(attacker, 'merger').create(withData('m', 'm'), withTargetName('foreign'), withCreationPolicy('Merge'));
      await es(attacker, 'merger').ready('True');
      await es(attacker, 'taker').create(withData('z', 'z'), withTargetName('foreign'), withCreationPolicy('Owner'));
      const c = await es(attacker, 'taker').ready('False', /not managed|owned/i, 30_000);
      await sleep(2000); // a takeover would have happened by now
      return c;
    }, { bystander: by, operator: op });
    assertWithstood(t, figures);
    const data = await secretData(attacker.ns, 'foreign');
    assert.equal(data?.a, 'keep-a');
    assert.equal(data?.b, 'keep-b');
    assert.equal(data?.z, undefined, 'the Owner ExternalSecret wrote into the foreign Secret');
    attackOutcome(figures);
  });

  it('an orphaned Secret (its Orphan ExternalSecret deleted) is not taken over by another ExternalSecret', async (t) => {
    const { op, by } = await arena(t);
    const attacker = await fakeTenant(s, op, { o: 'orphan-value', z: 'taken' }, 'orphan');
    const figures = await whileAttacked(async () => {
      await es(attacker, 'first').create(withData('o', 'o'), withTargetName('orphaned'), withCreationPolicy('Orphan'));
      await es(attacker, 'first').ready('True');
      await s.admin.delete(externalSecrets, attacker.ns, 'first');
      await waitFor('the Orphan ExternalSecret to be gone', async () => (await s.admin.tryGet(externalSecrets, attacker.ns, 'first')) === undefined);
      await es(attacker, 'second').create(withData('z', 'z'), withTargetName('orphaned'), withCreationPolicy('Owner'));
      const c = await es(attacker, 'second').ready('False', /not managed|owned/i, 30_000);
      await sleep(2000);
      return c;
    }, { bystander: by, operator: op });
    assertWithstood(t, figures);
    assert.deepEqual(await secretData(attacker.ns, 'orphaned'), { o: 'orphan-value' });
    attackOutcome(figures);
  });
});

describe('value leaks (finding 8): planted markers appear nowhere', { timeout: 180_000 }, () => {
  it('fail and InvalidSecretKey built from derived values (upper, substr, trunc, b64enc, keys)', async (t) => {
    const { op, by } = await arena(t);
    const marker = plantMarker();
    const attacker = await fakeTenant(s, op, { tok: marker }, 'leak');
    const templates: Record<string, Parameters<typeof withTemplate>[0]> = {
      upper: { data: { out: '{{ fail (upper .tok) }}' } },
      substr: { data: { out: '{{ fail (.tok | upper | substr 2 16) }}' } },
      trunc: { data: { out: '{{ fail (trunc 14 .tok) }}' } },
      b64: { data: { out: '{{ fail (b64enc .tok) }}' } },
      printf: { data: { out: '{{ fail (printf "bad value %q" (.tok | upper)) }}' } },
      key: { templateFrom: [{ literal: '"{{ .tok | upper }}/bad": v' }] },
    };
    const figures = await whileAttacked(async () => {
      for (const [name, tpl] of Object.entries(templates)) await es(attacker, name).create(withData('tok', 'tok'), withTemplate(tpl));
      for (const name of Object.keys(templates)) await es(attacker, name).ready('False', /./, 30_000);
      await sleep(1000); // events and logs of the failures
    }, { bystander: by, operator: op });
    assertWithstood(t, figures);
    attackOutcome(figures);
    assert.deepEqual(findMarker(marker, { ...(await namespaceTexts(s.admin, attacker.ns)), logs: op.logs.join('\n') }), []);
  });
});

describe("ESO's privileged-template guard (finding 10)", { timeout: 180_000 }, () => {
  it('bootstrap token Secrets and service-account-token Secrets bound by annotation are refused', async (t) => {
    const { op, by } = await arena(t);
    const attacker = await fakeTenant(s, op, { id: 'abcdef', secret: '0123456789abcdef' }, 'privileged');
    const figures = await whileAttacked(async () => {
      await es(attacker, 'bootstrap').create(withData('token-id', 'id'), withData('token-secret', 'secret'),
        withTemplate({ type: 'bootstrap.kubernetes.io/token', data: { 'token-id': '{{ .id }}', 'token-secret': '{{ .secret }}', 'usage-bootstrap-authentication': 'true' } }));
      await es(attacker, 'satoken').create(withData('token', 'secret'),
        withTemplate({ type: 'kubernetes.io/service-account-token', metadata: { annotations: { 'kubernetes.io/service-account.name': 'default' } } }));
      return Promise.all([es(attacker, 'bootstrap').ready('False', /privileged|bootstrap/i), es(attacker, 'satoken').ready('False', /privileged|service.?account/i)]);
    }, { bystander: by, operator: op });
    assertWithstood(t, figures);
    attackOutcome(figures);
    assert.equal(await s.admin.tryGet(core.secrets, attacker.ns, 'bootstrap'), undefined);
    assert.equal(await s.admin.tryGet(core.secrets, attacker.ns, 'satoken'), undefined);
    assert.ok((await errorCount(op, attacker.ns, 'PrivilegedSecretType')) >= 2, 'metric externalsecret_sync_calls_error{reason="PrivilegedSecretType"}');
  });
});

describe('status follows the store at once (finding 9)', { timeout: 120_000 }, () => {
  it('deleting the store turns its ExternalSecrets Ready=False within 5 s', async (t) => {
    const { op, by } = await arena(t);
    const tenant = await fakeTenant(s, op, { k: 'v' }, 'store-gone');
    const figures = await whileAttacked(async () => {
      await es(tenant, 'e').create(withData('k', 'k'));
      await es(tenant, 'e').ready('True');
      await s.admin.delete(secretStores, tenant.ns, 'fake');
      return es(tenant, 'e').ready('False', /not found/, 5000);
    }, { bystander: by, operator: op });
    assertWithstood(t, figures);
    attackOutcome(figures);
    assert.deepEqual(await secretData(tenant.ns, 'e'), { k: 'v' }, 'the Secret is kept');
  });

  it("a namespace leaving a ClusterSecretStore's conditions turns its ExternalSecrets Ready=False within 5 s", async (t) => {
    const { op, by } = await arena(t);
    const ns = await freshNamespace(s.admin, 'css-cond');
    const name = `css-${s.run}-cond`;
    await s.admin.create(clusterSecretStores, aClusterSecretStore(withStoreName(name), withController(op.controllerClass), withFakeData({ k: 'v' }), withNamespaceConditions([ns])) as unknown as KubeObject);
    onCleanup(() => s.admin.delete(clusterSecretStores, undefined, name).catch(() => undefined));
    const figures = await whileAttacked(async () => {
      await s.admin.create(externalSecrets, tenantES({ ns, store: name, controllerClass: op.controllerClass }, 'e', withData('k', 'k'), (x) => { x.spec.secretStoreRef = { name, kind: 'ClusterSecretStore' }; }));
      await waitCondition(s.admin, externalSecrets, ns, 'e', 'True');
      await s.admin.patch(clusterSecretStores, undefined, name, 'merge', { spec: { conditions: [{ namespaces: ['someone-else'] }] } });
      return waitCondition(s.admin, externalSecrets, ns, 'e', 'False', /does not allow|not allowed/i, 5000);
    }, { bystander: by, operator: op });
    assertWithstood(t, figures);
    attackOutcome(figures);
  });
});

// A benign 'attack' proves the harness itself: a healthy operator passes all three measurements.
describe('the harness', { timeout: 120_000 }, () => {
  it('measures a benign attack as harmless', async (t) => {
    const { op, by } = await arena(t);
    const tenant = await fakeTenant(s, op, { k: 'v' }, 'benign');
    const figures = await whileAttacked(async () => {
      await es(tenant, 'e').create(withData('k', 'k'), withExtract('k'));
      return es(tenant, 'e').ready('False', /not a JSON object|JSON/i);
    }, { bystander: by, operator: op });
    assertWithstood(t, figures);
    attackOutcome(figures);
    assert.ok(figures.health.samples >= 10, `only ${figures.health.samples} /healthz samples in ${figures.windowMs} ms`);
    assert.ok(figures.bystanderReadyMs! < 15_000);
  });
});
