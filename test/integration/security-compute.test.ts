// Untrusted computation cannot block or crash the controller (issue 9, findings 3, 5, 8, 9).
// Tenant A applies hostile templates: a list and a string of 10^8 elements, a nested range of
// 10^10 steps, key generation in a loop, a heap hoard, a recursive template, and templates that
// build error messages and keys from a planted marker value. Meanwhile tenant B's ExternalSecret
// must reach Ready within 10 s, /healthz must answer within 1 s throughout, A's ExternalSecrets
// must report what went wrong, and the operator (with the recommended 150 MB heap) must still be
// the same live process at the end. The marker never reaches status, events or the logs.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeClient } from '../../src/kube/client.ts';
import { core, type CoreEvent, type KubeObject, type Secret } from '../../src/kube/types.ts';
import { externalSecrets, pushSecrets, secretStores } from '../../src/controllers/resources.ts';
import { adminClient, decodeSecret, freshNamespace, peers, waitFor, waitReady } from './helpers.ts';
import { installTessera, startOperator, type Operator } from './operator.ts';

const MARKER = 'Qz8vK3mW7xJ2';
// The peers are shared with other test runs, whose operators watch every namespace: a controller
// class of our own keeps them away from our stores and ExternalSecrets.
const CLASS = `security-compute-${process.pid}`;
// Any five characters of the marker in a row, in any letter case (upper, substr, trunc …).
const fragments = new RegExp(Array.from({ length: MARKER.length - 4 }, (_, i) => MARKER.slice(i, i + 5)).join('|'), 'i');

let admin: KubeClient;
let op: Operator;
let nsA: string;
let nsB: string;
let pid: number;

// /healthz latency, sampled every 200 ms from before the attack to the end of the file.
const healthLatencies: number[] = [];
let healthFailures = 0;
let sampling = true;
let sampler: Promise<void> | undefined;

function store(ns: string, data: Array<{ key: string; value: string }>): KubeObject {
  return { apiVersion: 'external-secrets.io/v1', kind: 'SecretStore', metadata: { name: 'fake', namespace: ns }, spec: { controller: CLASS, provider: { fake: { data } } } } as KubeObject;
}
function templated(ns: string, name: string, template: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'external-secrets.io/v1',
    kind: 'ExternalSecret',
    metadata: { name, namespace: ns },
    spec: { refreshInterval: '1h', secretStoreRef: { name: 'fake' }, data: [{ secretKey: 'secret', remoteRef: { key: 'app/secret' } }], target: { template } },
  } as KubeObject;
}

before(async () => {
  const env = await peers();
  admin = await adminClient();
  await installTessera(admin);
  op = await startOperator(admin, env, [`--controller-class=${CLASS}`, '--template-timeout=3s', '--template-workers=2', '--template-memory-limit=32Mi'], { NODE_OPTIONS: '--max-old-space-size=150' });
  pid = op.child.pid!;
  nsA = await freshNamespace(admin, 'tenant-a');
  nsB = await freshNamespace(admin, 'tenant-b');
  await admin.create(secretStores, store(nsA, [{ key: 'app/secret', value: MARKER }]));
  await admin.create(secretStores, store(nsB, [{ key: 'app/secret', value: 'b-value' }]));
  sampler = (async () => {
    while (sampling) {
      const t0 = performance.now();
      try {
        const r = await fetch(`${op.healthUrl}/healthz`, { signal: AbortSignal.timeout(5000) });
        if (r.status !== 200) healthFailures++;
      } catch {
        healthFailures++;
      }
      healthLatencies.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
});

after(async () => {
  sampling = false;
  await sampler;
});

const attacks: Array<[name: string, template: Record<string, unknown>, expected: RegExp]> = [
  ['seq', { data: { k: '{{ seq 1 100000000 | len }}' } }, /^could not update secret: compute budget exceeded: a list function would build a list of 100000000 elements \(limit 1000000\)$/],
  ['repeat', { data: { k: '{{ repeat 100000000 "a" }}' } }, /^could not update secret: compute budget exceeded: repeat would build a string of 100000000 characters \(limit 16777216\)$/],
  ['nested-range', { data: { k: '{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}' } }, /^could not update secret: compute budget exceeded: time limit 3s \(--template-timeout\)$/],
  ['keygen-loop', { data: { k: '{{ range until 10000 }}{{ genPrivateKey "rsa" | len }}{{ end }}' } }, /^could not update secret: compute budget exceeded: time limit 3s \(--template-timeout\)$/],
  // A list of eight million elements: 64 MiB of pointers, over the 32 MiB heap limit. (Long
  // strings would not do: V8 builds repeated and padded strings as ropes of a few nodes.)
  ['hoard', { data: { k: '{{ $a := until 1000000 }}{{ $b := concat $a $a $a $a $a $a $a $a }}{{ len $b }}' } }, /^could not update secret: compute budget exceeded: memory limit 32Mi \(--template-memory-limit\)$/],
  ['off-heap-hoard', { data: { k: '{{ $d := dict }}{{ range $i := until 200 }}{{ $_ := set $d (print $i) (randBytes 16000000) }}{{ end }}' } }, /^could not update secret: compute budget exceeded: template functions returned more than 67108864 characters in all$/],
  ['recursion', { data: { k: '{{define "x"}}{{template "x" .}}{{end}}{{template "x" .}}' } }, /exceeded maximum template depth \(100000\)$/],
  ['fail-upper', { data: { k: '{{ fail (printf "bad %s" (upper .secret)) }}' } }, /error calling fail: \[redacted\]$/],
  ['fail-substr', { data: { k: '{{ fail (substr 1 9 .secret | lower) }}' } }, /error calling fail: \[redacted\]$/],
  ['key-from-value', { templateFrom: [{ target: 'Data', literal: '{{ .secret | trunc 8 }}/x: v' }] }, /^could not [a-z ]+: key 0 of the rendered map rendered by a template is not a valid secret key/],
  ['too-large', { data: { k: '{{ repeat 1100000 "a" }}' } }, /^could not [a-z ]+: secret "too-large" would hold 1100000 bytes of data, more than a Secret can hold \(1048576 bytes\)$/],
  // More renders that each hold a worker for the whole deadline: both workers stay busy with
  // tenant A's work while tenant B waits for its turn.
  ...[1, 2, 3, 4, 5, 6].map((i): [string, Record<string, unknown>, RegExp] => [
    `busy-${i}`, { data: { k: `{{ range until 100000 }}{{ range until 100000 }}{{ $x := ${i} }}{{ end }}{{ end }}` } }, /^could not update secret: compute budget exceeded: time limit 3s \(--template-timeout\)$/]),
];

describe('untrusted compute', () => {
  it('tenant B syncs within 10 s while tenant A attacks; A gets budget statuses; the operator lives', async (t) => {
    for (const [name, template] of attacks) await admin.create(externalSecrets, templated(nsA, name, template));
    // Let the attack get going (workers busy, the first renders past their deadline).
    await new Promise((r) => setTimeout(r, 3000));
    const t0 = performance.now();
    await admin.create(externalSecrets, templated(nsB, 'app', { data: { greeting: 'hello {{ .secret | upper }}' } }));
    await waitReady(admin, nsB, 'app', 'True', /./, 10_000);
    const tookMs = performance.now() - t0;
    assert.ok(tookMs < 10_000, `tenant B took ${Math.round(tookMs)} ms`);
    assert.deepEqual(decodeSecret(await admin.get<Secret>(core.secrets, nsB, 'app')), { greeting: 'hello B-VALUE' });

    for (const [name, , expected] of attacks) {
      const c = await waitReady(admin, nsA, name, 'False', expected, 60_000);
      assert.equal(c.reason, 'SecretSyncedError', name);
      assert.equal(await admin.tryGet(core.secrets, nsA, name), undefined, `${name}: no Secret written`);
    }

    // Still the same process, alive, and its health endpoint answered quickly throughout.
    assert.equal(op.child.exitCode, null, 'the operator did not exit');
    assert.equal(op.child.pid, pid);
    process.kill(pid, 0); // throws if the process is gone
    assert.ok(healthLatencies.length >= 20, `sampled /healthz ${healthLatencies.length} times`);
    assert.equal(healthFailures, 0, '/healthz always answered 200');
    const worst = Math.max(...healthLatencies);
    assert.ok(worst < 1000, `/healthz answered within 1 s (worst ${Math.round(worst)} ms)`);
    t.diagnostic(`tenant B Ready after ${Math.round(tookMs)} ms; /healthz worst ${Math.round(worst)} ms over ${healthLatencies.length} samples`);
    const metrics = await op.metrics();
    assert.match(metrics, /tessera_template_workers_lost_total\{reason="time"\} [1-9]/);
    assert.match(metrics, /tessera_template_workers_lost_total\{reason="memory"\} [1-9]/);
  });

  it("a PushSecret's looping dataTo transform renders in a worker: tenant B syncs, /healthz answers, A gets a budget status", async (t) => {
    // Key transforms are templates too: they ran on the event loop before, so this one (10^10
    // steps per key) would have held every tenant's reconciles and the health endpoint.
    await admin.create(core.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'push-src', namespace: nsA }, stringData: { a: 'x', b: 'y' } } as unknown as Secret);
    const latenciesBefore = healthLatencies.length;
    await admin.create(pushSecrets, {
      apiVersion: 'external-secrets.io/v1alpha1', kind: 'PushSecret', metadata: { name: 'loop', namespace: nsA },
      spec: {
        refreshInterval: '1h', secretStoreRefs: [{ name: 'fake', kind: 'SecretStore' }], selector: { secret: { name: 'push-src' } },
        dataTo: [{ storeRef: { name: 'fake' }, rewrite: [{ transform: { template: '{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}{{ .value }}' } }] }],
      },
    } as KubeObject);
    await new Promise((r) => setTimeout(r, 1000));
    const t0 = performance.now();
    await admin.create(externalSecrets, templated(nsB, 'during-push', { data: { greeting: 'hi {{ .secret }}' } }));
    await waitReady(admin, nsB, 'during-push', 'True', /./, 10_000);
    const tookMs = performance.now() - t0;
    const c = await waitFor('PushSecret loop Ready=False with the time budget', async () => {
      const ps = await admin.tryGet<KubeObject & { status?: { conditions?: Array<{ type: string; status: string; message?: string }> } }>(pushSecrets, nsA, 'loop');
      const ready = ps?.status?.conditions?.find((x) => x.type === 'Ready');
      return ready?.status === 'False' && /compute budget exceeded: time limit 3s \(--template-timeout\)/.test(ready.message ?? '') ? ready : undefined;
    }, 60_000);
    assert.equal(c.message, 'compute budget exceeded: time limit 3s (--template-timeout)');
    const during = healthLatencies.slice(latenciesBefore);
    assert.ok(during.length >= 10, `sampled /healthz ${during.length} times`);
    assert.ok(Math.max(...during) < 1000, `/healthz answered within 1 s (worst ${Math.round(Math.max(...during))} ms)`);
    assert.equal(op.child.exitCode, null, 'the operator did not exit');
    t.diagnostic(`tenant B Ready after ${Math.round(tookMs)} ms during the PushSecret attack`);
  });

  it('the planted value never reaches status, events or the operator\'s logs, in any form', async () => {
    const haystacks: string[] = [...op.logs];
    for (const e of (await admin.list<CoreEvent>(core.events, nsA)).items) haystacks.push(JSON.stringify(e));
    for (const es of (await admin.list<KubeObject & { status?: unknown }>(externalSecrets, nsA)).items) haystacks.push(JSON.stringify(es.status ?? {}));
    assert.ok(haystacks.length > attacks.length, 'there is something to search');
    assert.ok(haystacks.some((h) => h.includes('compute budget exceeded')), 'the statuses were searched');
    const b64 = Buffer.from(MARKER).toString('base64').slice(0, 12);
    const leaks = haystacks.filter((h) => fragments.test(h) || h.includes(b64));
    assert.deepEqual(leaks, []);
  });
});
