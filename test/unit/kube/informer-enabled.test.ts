// An informer that is not `enabled` (src/kube/informer.ts) neither lists nor watches, counts as
// synced, and starts or stops when relist() finds the answer changed: the PushSecret controller's
// Secret watch, which most clusters (no PushSecret) never need.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeClient } from '../../../src/kube/client.ts';
import { Informer } from '../../../src/kube/informer.ts';
import type { KubeObject } from '../../../src/kube/types.ts';
import { core } from '../../../src/kube/types.ts';

const secret = (name: string, rv: number): KubeObject => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'ns', resourceVersion: String(rv) } });

/** A client that counts lists and open watches; its watch stays open, silent, until aborted. */
function countingClient(items: KubeObject[]) {
  const calls = { lists: 0, watches: 0, open: 0 };
  const client = {
    server: 'https://127.0.0.1:6443',
    list: async () => (calls.lists++, { metadata: { resourceVersion: '10' }, items: items.map((i) => structuredClone(i)) }),
    watch: async function* (_rt: unknown, _ns: unknown, o: { signal: AbortSignal; onOpen?: () => void }) {
      calls.watches++;
      calls.open++;
      try {
        o.onOpen?.();
        await new Promise<void>((r) => o.signal.addEventListener('abort', () => r(), { once: true }));
        yield* [];
      } finally {
        calls.open--;
      }
    },
    close: () => undefined,
  } as unknown as KubeClient;
  return { client, calls };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(check(), 'condition reached');
};

test('a disabled informer is synced with nothing listed or watched; relist() starts and stops it', async () => {
  const { client, calls } = countingClient([secret('a', 1), secret('b', 2)]);
  let on = false;
  const deleted: string[] = [];
  const added: Array<{ name: string | undefined; initialList: boolean }> = [];
  const inf = new Informer<KubeObject>(client, core.secrets, { enabled: () => on });
  inf.addHandlers({ add: (o, { initialList }) => added.push({ name: o.metadata?.name, initialList }), delete: (o) => deleted.push(o.metadata!.name!) });
  inf.start();
  try {
    assert.equal(await inf.waitForSync(), true);
    assert.ok(inf.healthy, 'counts as healthy for /readyz');
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(calls, { lists: 0, watches: 0, open: 0 }, 'no request while disabled');
    assert.equal(inf.size(), 0);

    on = true;
    await inf.relist();
    await until(() => calls.open === 1);
    assert.equal(calls.lists, 1);
    assert.deepEqual(inf.keys().sort(), ['ns/a', 'ns/b']);
    assert.deepEqual(added.map((a) => a.name).sort(), ['a', 'b']);
    assert.ok(added.every((a) => !a.initialList), 'objects that appear after the first sync are new to the handlers');

    on = false;
    await inf.relist();
    await until(() => calls.open === 0);
    assert.equal(inf.size(), 0, 'the cache is emptied');
    assert.deepEqual(deleted.sort(), ['a', 'b'], 'what it held is delivered as deleted');
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(calls.lists, 1, 'no list while disabled again');
    assert.equal(calls.watches, 1);
  } finally {
    await inf.stop();
  }
});

test('an informer enabled from the start lists and watches as any other', async () => {
  const { client, calls } = countingClient([secret('a', 1)]);
  const inf = new Informer<KubeObject>(client, core.secrets, { enabled: () => true });
  inf.start();
  try {
    await inf.waitForSync();
    await until(() => calls.open === 1);
    assert.equal(calls.lists, 1);
    assert.deepEqual(inf.keys(), ['ns/a']);
  } finally {
    await inf.stop();
  }
});
