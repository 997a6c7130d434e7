// The bad-input corpus (corpus.ts) against the real apiserver and the operator process: every case
// is applied, in batches; refused ones must name their field, accepted ones must reach their status.
// Cases marked `hazard` (they hang or kill an unfixed controller) are applied last. At the end the
// operator is alive and a healthy tenant's Secret is byte-identical: nothing crashed, nothing lost.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApiError } from '../../../src/kube/client.ts';
import { core, type KubeObject, type Secret } from '../../../src/kube/types.ts';
import { clusterSecretStores, externalSecrets, secretStores } from '../../../src/controllers/resources.ts';
import { withData } from '../../fixtures/builders.ts';
import { aSecretStore, withController, withFakeData, withStoreName, withStoreNamespace } from '../../fixtures/stores.ts';
import { freshNamespace, onCleanup } from '../helpers.ts';
import { CORPUS, REMOTE, corpusSecrets, type CorpusCase } from './corpus.ts';
import {
  fakeTenant, findMarker, plantMarker, secretDamage, sleep, snapshotSecrets, startTestOperator, suite, tenantES, waitCondition,
  type Condition, type SecretSnapshot, type Suite, type Tenant, type TestOperator,
} from './harness.ts';

let s: Suite;
let op: TestOperator;
let ns: string;
let healthy: Tenant;
let healthyBefore: SecretSnapshot;
let marker: string;
const t0 = Date.now();

/** The resource at the case's own version: a v1beta1 body must go to the v1beta1 path. */
const rtOf = (c: CorpusCase) => ({
  ...(c.kind === 'ExternalSecret' ? externalSecrets : c.kind === 'SecretStore' ? secretStores : clusterSecretStores),
  version: String(c.object.apiVersion).split('/')[1]!,
});
const objectName = (c: CorpusCase) => (c.kind === 'ClusterSecretStore' ? `c${s.run}-${c.name}` : (c.object.metadata.name as string));

/** The case's object as applied: in the corpus namespace, stores handled by our operator only. */
function manifest(c: CorpusCase): KubeObject {
  const o = structuredClone(c.object);
  if (c.kind === 'ClusterSecretStore') o.metadata.name = objectName(c);
  else o.metadata.namespace = ns;
  if (c.kind !== 'ExternalSecret' && o.spec && typeof o.spec === 'object') o.spec.controller = op.controllerClass;
  return o as KubeObject;
}

async function inBatches<T>(items: readonly T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: size }, async () => {
    while (i < items.length) await fn(items[i++]!);
  }));
}

before(async () => {
  s = await suite();
  op = await startTestOperator(s, { logLevel: 'info' });
  ns = await freshNamespace(s.admin, 'corpus');
  marker = plantMarker();
  const planted = path.join(mkdtempSync(path.join(tmpdir(), 'tessera-corpus-')), 'token');
  writeFileSync(planted, marker);
  for (const [name, stringData] of Object.entries(corpusSecrets(planted))) {
    await s.admin.create(core.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns }, stringData } as Secret);
  }
  await s.admin.create(secretStores, aSecretStore(withStoreName('fake'), withStoreNamespace(ns), withController(op.controllerClass), withFakeData(REMOTE)) as unknown as KubeObject);
  healthy = await fakeTenant(s, op, { k: 'healthy-value' }, 'healthy');
  await s.admin.create(externalSecrets, tenantES(healthy, 'keep', withData('k', 'k')));
  await waitCondition(s.admin, externalSecrets, healthy.ns, 'keep', 'True');
  healthyBefore = await snapshotSecrets(s.admin, healthy.ns, ['keep']);
});

after(() => {
  process.stderr.write(`[security] corpus: ${CORPUS.length} cases in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
});

describe('refused at admission, with the field named', () => {
  const refused = CORPUS.filter((c) => 'admission' in c.expect);
  const answers = new Map<string, { refused: boolean; message: string }>();
  before(async () => {
    await inBatches(refused, 16, async (c) => {
      try {
        await s.admin.create(rtOf(c), manifest(c));
        answers.set(c.name, { refused: false, message: 'accepted' });
        await s.admin.delete(rtOf(c), c.kind === 'ClusterSecretStore' ? undefined : ns, objectName(c)).catch(() => undefined);
      } catch (e) {
        answers.set(c.name, { refused: e instanceof ApiError && (e.code === 422 || e.code === 400), message: (e as Error).message });
      }
    });
  });
  for (const c of refused) {
    it(`${c.name}: ${c.about}`, () => {
      const a = answers.get(c.name);
      assert.ok(a?.refused, `not refused: ${a?.message}`);
      const field = (c.expect as { admission: string }).admission;
      assert.ok(a.message.includes(field), `the message does not name ${field}: ${a.message}`);
    });
  }
});

/** Each case's Ready condition, polled in one list per kind until all match or time runs out. */
async function settle(cases: readonly CorpusCase[], timeoutMs: number): Promise<Map<string, { cond?: Condition; error?: string; ok: boolean }>> {
  const out = new Map<string, { cond?: Condition; error?: string; ok: boolean }>();
  await inBatches(cases, 16, async (c) => {
    try {
      await s.admin.create(rtOf(c), manifest(c));
      if (c.kind === 'ClusterSecretStore') onCleanup(() => s.admin.delete(clusterSecretStores, undefined, objectName(c)).catch(() => undefined));
      out.set(c.name, { ok: false });
    } catch (e) {
      out.set(c.name, { ok: false, error: `refused at admission: ${(e as Error).message}` });
    }
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ready = new Map<string, Condition | undefined>();
    const readyOf = (o: KubeObject & { status?: { conditions?: Condition[] } }) => o.status?.conditions?.find((x) => x.type === 'Ready');
    for (const o of (await s.admin.list<KubeObject & { status?: { conditions?: Condition[] } }>(externalSecrets, ns)).items) ready.set(`ExternalSecret/${o.metadata!.name}`, readyOf(o));
    for (const o of (await s.admin.list<KubeObject & { status?: { conditions?: Condition[] } }>(secretStores, ns)).items) ready.set(`SecretStore/${o.metadata!.name}`, readyOf(o));
    for (const c of cases.filter((x) => x.kind === 'ClusterSecretStore')) {
      const o = await s.admin.tryGet<KubeObject & { status?: { conditions?: Condition[] } }>(clusterSecretStores, undefined, objectName(c));
      if (o) ready.set(`ClusterSecretStore/${objectName(c)}`, readyOf(o));
    }
    let pending = 0;
    for (const c of cases) {
      const r = out.get(c.name)!;
      if (r.error || r.ok) continue;
      const cond = ready.get(`${c.kind}/${objectName(c)}`);
      const want = c.expect as { ready: 'True' | 'False'; message: RegExp };
      r.cond = cond;
      // The object's own name is taken out: a case named after its field must not match itself.
      const message = (cond?.message ?? '').split(objectName(c)).join('<name>');
      r.ok = !!cond && cond.status === want.ready && (want.message.source === '.' || want.message.test(message));
      if (!r.ok) pending++;
    }
    if (pending === 0 || Date.now() > deadline) return out;
    await sleep(1000);
  }
}

function statusTests(cases: readonly CorpusCase[], timeoutMs: number): void {
  let results: Awaited<ReturnType<typeof settle>>;
  before(async () => {
    results = await settle(cases, timeoutMs);
  });
  for (const c of cases) {
    it(`${c.name}: ${c.about}${c.needs ? ` [needs ${c.needs}]` : ''}`, (t) => {
      const r = results.get(c.name);
      t.diagnostic(`Ready=${r?.cond?.status} ${r?.cond?.reason}: ${(r?.cond?.message ?? '').slice(0, 300)}`);
      const want = c.expect as { ready: 'True' | 'False'; message: RegExp };
      assert.ok(!r?.error, r?.error);
      assert.ok(r?.ok, `expected Ready=${want.ready} ${want.message}, last seen: ${JSON.stringify(r?.cond ?? 'no condition')}`);
    });
  }
}

describe('accepted, ending with a status', () => {
  statusTests(CORPUS.filter((c) => 'ready' in c.expect && !c.hazard), 90_000);
});

describe('accepted, hazards for an unfixed controller (applied last)', () => {
  statusTests(CORPUS.filter((c) => 'ready' in c.expect && c.hazard), 45_000);
});

describe('after the corpus', () => {
  it('the operator is alive and answers /healthz', async () => {
    assert.ok(op.alive(), `operator pid ${op.pid} died: ${op.logs.slice(-5).join('\n')}`);
    const res = await fetch(`${op.healthUrl}/healthz`, { signal: AbortSignal.timeout(1000) });
    assert.equal(res.status, 200);
  });

  it("a healthy tenant's Secret is byte-identical", async () => {
    assert.deepEqual(secretDamage(healthyBefore, await snapshotSecrets(s.admin, healthy.ns, ['keep'])), []);
  });

  it('the planted kubeconfig token appears nowhere (status, events, logs)', async () => {
    const texts: Record<string, string> = { logs: op.logs.join('\n') };
    for (const rt of [externalSecrets, secretStores]) {
      for (const o of (await s.admin.list<KubeObject & { status?: unknown }>(rt, ns)).items) texts[`${rt.kind} ${o.metadata!.name}`] = JSON.stringify(o.status ?? {});
    }
    for (const e of (await s.admin.list<KubeObject & { message?: string }>(core.events, ns)).items) texts[`event ${e.metadata!.name}`] = e.message ?? '';
    assert.deepEqual(findMarker(marker, texts), []);
  });
});
