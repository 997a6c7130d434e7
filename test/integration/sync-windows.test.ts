// spec.syncWindows through the operator as users run it: a periodic refresh that falls outside an
// allow window waits for the window to open (the next UTC minute here: schedule "* * * * *",
// open for 10 s), while the first sync does not wait; a schedule the controller cannot read is
// reported in status, naming the field. Own --controller-class, as every integration test.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { KubeClient } from '../../src/kube/client.ts';
import { core, type KubeObject, type Secret } from '../../src/kube/types.ts';
import { externalSecrets, secretStores } from '../../src/controllers/resources.ts';
import { adminClient, decodeSecret, freshNamespace, peers, sleep, uniqueName, waitFor, waitReady } from './helpers.ts';
import { withOurCrd } from './eso29-crd-guard.ts';
import { installTessera, startOperator } from './operator.ts';

const controllerClass = `windows-${randomBytes(3).toString('hex')}`;
let admin: KubeClient;
let ns: string;

function fakeData(value: string) {
  return { fake: { data: [{ key: 'token', value }] } };
}

function windowed(name: string, schedule: string, duration: string): KubeObject {
  return {
    apiVersion: 'external-secrets.io/v1',
    kind: 'ExternalSecret',
    metadata: { name, namespace: ns },
    spec: {
      secretStoreRef: { name: 'fake' },
      refreshInterval: '2s',
      syncWindows: { kind: 'allow', windows: [{ schedule, duration }] },
      data: [{ secretKey: 'token', remoteRef: { key: 'token' } }],
    },
  } as KubeObject;
}

/** Waits until the UTC second of the minute is in [from, to). */
async function untilSecondOfMinute(from: number, to: number): Promise<void> {
  for (;;) {
    const s = new Date().getUTCSeconds() + new Date().getUTCMilliseconds() / 1000;
    if (s >= from && s < to) return;
    await sleep(((from - s + 60) % 60) * 1000);
  }
}

async function token(name: string): Promise<string | undefined> {
  return decodeSecret(await admin.tryGet<Secret>(core.secrets, ns, name)).token;
}

before(async () => {
  const env = await peers();
  admin = await adminClient();
  await installTessera(admin);
  await startOperator(admin, env, [`--controller-class=${controllerClass}`]);
  ns = await freshNamespace(admin, 'windows');
  await admin.create(secretStores, {
    apiVersion: 'external-secrets.io/v1',
    kind: 'SecretStore',
    metadata: { name: 'fake', namespace: ns },
    spec: { controller: controllerClass, provider: fakeData('v1') },
  } as KubeObject);
});

describe('spec.syncWindows', () => {
  it('postpones a periodic refresh outside an allow window and runs it when the window opens', () => withOurCrd(admin, ['syncWindows'], async () => {
    const name = uniqueName('windowed');
    await admin.patch(secretStores, ns, 'fake', 'merge', { spec: { provider: fakeData('v1') } });
    // Created outside the window: the first sync does not wait for it.
    await untilSecondOfMinute(15, 30);
    await admin.create(externalSecrets, windowed(name, '* * * * *', '10s'));
    await waitReady(admin, ns, name, 'True');
    assert.equal(await token(name), 'v1');

    // The remote value changes outside the window: refreshes are due every 2 s, but wait.
    await admin.patch(secretStores, ns, 'fake', 'merge', { spec: { provider: fakeData('v2') } });
    await untilSecondOfMinute(52, 58);
    assert.equal(await token(name), 'v1', 'no periodic refresh outside the allow window');

    // The window opens at the next full minute: the refresh runs inside it.
    await waitFor('the refresh inside the window wrote v2', async () => ((await token(name)) === 'v2' ? true : undefined), 40_000);
    const second = new Date().getUTCSeconds();
    assert.ok(second <= 12, `synced at second ${second} of the minute, inside the 10 s window`);
  }));

  it('reports a schedule it cannot read, naming the field', () => withOurCrd(admin, ['syncWindows'], async () => {
    const name = uniqueName('unreadable');
    await admin.create(externalSecrets, windowed(name, 'a b c d e', '1h'));
    const failed = await waitReady(admin, ns, name, 'False', /spec\.syncWindows\.windows\[0\]\.schedule/);
    assert.equal(failed.reason, 'SecretSyncedError');
    assert.equal(await admin.tryGet(core.secrets, ns, name), undefined);
  }));
});
