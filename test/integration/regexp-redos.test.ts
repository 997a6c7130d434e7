// Tenant regexps through the operator: catastrophic-backtracking patterns in find.name.regexp,
// rewrite, a template and ClusterSecretStore conditions. With JS RegExp each of these hung the
// controller for every tenant; on RE2 they are linear, the attacker's ExternalSecret syncs, and a
// second tenant's ExternalSecret, created afterwards, is Ready within seconds while /healthz answers.
// Uses the fake provider, so only the control plane is needed.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeClient } from '../../src/kube/client.ts';
import { core, type KubeObject, type Secret } from '../../src/kube/types.ts';
import { clusterSecretStores, externalSecrets, secretStores } from '../../src/controllers/resources.ts';
import { adminClient, decodeSecret, freshNamespace, onCleanup, peers, uniqueName, waitFor, waitReady } from './helpers.ts';
import { installTessera, startOperator, type Operator } from './operator.ts';

let admin: KubeClient;
let op: Operator;
const longKey = `${'a'.repeat(50_000)}!`;

async function fakeStore(ns: string, data: Array<{ key: string; value: string }>): Promise<void> {
  await admin.create(secretStores, {
    apiVersion: 'external-secrets.io/v1',
    kind: 'SecretStore',
    metadata: { name: 'fake', namespace: ns },
    spec: { provider: { fake: { data } } },
  } as KubeObject);
}

async function externalSecret(ns: string, name: string, spec: Record<string, unknown>): Promise<void> {
  await admin.create(externalSecrets, {
    apiVersion: 'external-secrets.io/v1',
    kind: 'ExternalSecret',
    metadata: { name, namespace: ns },
    spec: { secretStoreRef: { name: 'fake' }, refreshInterval: '1h', ...spec },
  } as KubeObject);
}

/** Milliseconds /healthz takes to answer 200. */
async function healthzMs(): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${op.healthUrl}/healthz`, { signal: AbortSignal.timeout(5_000) });
  assert.equal(res.status, 200);
  return performance.now() - started;
}

before(async () => {
  const env = await peers();
  admin = await adminClient();
  await installTessera(admin);
  op = await startOperator(admin, env);
});

describe('catastrophic-backtracking regexps from a tenant', () => {
  it('sync in linear time, and another tenant is not held up', async () => {
    const attacker = await freshNamespace(admin, 'redos');
    await fakeStore(attacker, [{ key: longKey, value: 'x' }, { key: 'ok', value: 'v' }]);
    await externalSecret(attacker, 'bomb', {
      dataFrom: [
        { find: { name: { regexp: '^(a+)+$' } } },
        { find: { name: { regexp: '.' } }, rewrite: [{ regexp: { source: '^(a|a)*!$', target: 'long' } }] },
      ],
      target: { template: { mergePolicy: 'Merge', data: { m: '{{ regexMatch "^(x+x+)+y$" (repeat 30000 "x") }}' } } },
    });

    const victim = await freshNamespace(admin, 'victim');
    await fakeStore(victim, [{ key: 'db', value: 'pw' }]);
    const started = performance.now();
    await externalSecret(victim, 'app', { data: [{ secretKey: 'password', remoteRef: { key: 'db' } }] });
    assert.ok(await healthzMs() < 1_000, '/healthz answers within a second');
    await waitReady(admin, victim, 'app', 'True', /./, 30_000);
    const victimMs = performance.now() - started;
    assert.ok(victimMs < 30_000, `the other tenant synced in ${victimMs.toFixed(0)} ms (never, with a backtracking engine)`);

    await waitReady(admin, attacker, 'bomb', 'True', /./, 15_000);
    const data = decodeSecret(await admin.get<Secret>(core.secrets, attacker, 'bomb'));
    assert.deepEqual(data, { long: 'x', ok: 'v', m: 'false' });
    assert.ok(await healthzMs() < 1_000);
  });

  it('an invalid find.name.regexp is a clear status naming the field', async () => {
    const ns = await freshNamespace(admin, 'rebad');
    await fakeStore(ns, [{ key: 'ok', value: 'v' }]);
    await externalSecret(ns, 'bad', { dataFrom: [{ find: { name: { regexp: '(?<=a)b' } } }] });
    await waitReady(admin, ns, 'bad', 'False', /find\.name\.regexp: error parsing regexp: invalid named capture: `\(\?<=a\)b`/, 15_000);
  });

  it('a ClusterSecretStore with an invalid namespaceRegexes entry is not Ready and names it; a bomb matches nothing', async () => {
    const name = uniqueName('redos-css');
    await admin.create(clusterSecretStores, {
      apiVersion: 'external-secrets.io/v1',
      kind: 'ClusterSecretStore',
      metadata: { name },
      spec: {
        conditions: [{ namespaceRegexes: [`^(a+)+$`, '(unclosed'] }],
        provider: { fake: { data: [{ key: 'k', value: 'v' }] } },
      },
    } as KubeObject);
    onCleanup(() => admin.delete(clusterSecretStores, undefined, name).catch(() => undefined));
    const ready = await waitFor(`ClusterSecretStore ${name} Ready=False`, async () => {
      const s = await admin.tryGet<KubeObject & { status?: { conditions?: Array<{ type: string; status: string; message?: string }> } }>(clusterSecretStores, undefined, name);
      const c = s?.status?.conditions?.find((x) => x.type === 'Ready');
      return c?.status === 'False' ? c : undefined;
    }, 60_000); // one store worker serves every store of the shared test cluster: allow a queue
    assert.equal(ready.message, 'spec.conditions[0].namespaceRegexes[1]: error parsing regexp: missing closing ): `(unclosed`');
  });
});
