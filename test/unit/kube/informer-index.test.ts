// The informer's indexes (src/kube/informer.ts): byIndex finds every cached object with a value,
// through adds, updates that move an object to another value, and deletes, whether a value names
// one object (kept as a plain key) or several (kept as a set).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeClient } from '../../../src/kube/client.ts';
import { Informer } from '../../../src/kube/informer.ts';
import type { KubeObject } from '../../../src/kube/types.ts';
import { externalSecrets } from '../../../src/controllers/resources.ts';

type Obj = KubeObject & { spec: { target: string } };
type Ev = { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: Obj };

const obj = (name: string, target: string, rv: number): Obj => ({ apiVersion: 'v1', kind: 'X', metadata: { name, namespace: 'ns', resourceVersion: String(rv) }, spec: { target } });

/** A client whose list answers `items` and whose watch yields what `push` is given. */
function fakeClient(items: Obj[]) {
  const queue: Ev[] = [];
  let wake: (() => void) | undefined;
  const client = {
    server: 'https://127.0.0.1:6443',
    list: async () => ({ metadata: { resourceVersion: '1' }, items }),
    watch: async function* (_rt: unknown, _ns: unknown, o: { signal: AbortSignal; onOpen?: () => void }) {
      o.onOpen?.();
      while (!o.signal.aborted) {
        const ev = queue.shift();
        if (ev) {
          yield ev;
          continue;
        }
        await new Promise<void>((r) => {
          wake = r;
          o.signal.addEventListener('abort', () => r(), { once: true });
        });
      }
    },
    close: () => undefined,
  } as unknown as KubeClient;
  return { client, push: (ev: Ev) => (queue.push(ev), wake?.()) };
}

test('byIndex through adds, moves and deletes, for values naming one object and several', async () => {
  const { client, push } = fakeClient([obj('a', 't1', 1), obj('b', 't1', 2), obj('c', 't2', 3)]);
  const inf = new Informer<Obj>(client, externalSecrets, { indexers: { target: (o) => [o.spec.target] } });
  inf.start();
  try {
    await inf.waitForSync();
    const names = (v: string) => inf.byIndex('target', v).map((o) => o.metadata?.name).sort();
    const settle = async (check: () => boolean) => {
      for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
    };
    assert.deepEqual(names('t1'), ['a', 'b']);
    assert.deepEqual(names('t2'), ['c']);
    assert.deepEqual(names('none'), []);

    // b moves to t2: t1 is left with one object, t2 gains a second.
    push({ type: 'MODIFIED', object: obj('b', 't2', 4) });
    await settle(() => names('t2').length === 2);
    assert.deepEqual(names('t1'), ['a']);
    assert.deepEqual(names('t2'), ['b', 'c']);

    // An update that keeps the value keeps the object once.
    push({ type: 'MODIFIED', object: obj('a', 't1', 5) });
    await settle(() => inf.get('ns/a')?.metadata?.resourceVersion === '5');
    assert.deepEqual(names('t1'), ['a']);

    // Deletes: the last object of a value takes the value out; one of two leaves the other.
    push({ type: 'DELETED', object: obj('a', 't1', 6) });
    push({ type: 'DELETED', object: obj('c', 't2', 7) });
    await settle(() => inf.get('ns/c') === undefined);
    assert.deepEqual(names('t1'), []);
    assert.deepEqual(names('t2'), ['b']);

    // A value that came back to one object grows again.
    push({ type: 'ADDED', object: obj('d', 't2', 8) });
    push({ type: 'ADDED', object: obj('e', 't2', 9) });
    await settle(() => names('t2').length === 3);
    assert.deepEqual(names('t2'), ['b', 'd', 'e']);
  } finally {
    await inf.stop();
  }
});

test('an index added by a second controller before start indexes every object; after start it is refused', async () => {
  const { client, push } = fakeClient([obj('a', 't1', 1), obj('b', 't2', 2)]);
  const inf = new Informer<Obj>(client, externalSecrets, { indexers: { target: (o) => [o.spec.target] } });
  inf.addIndexer('upper', (o) => [o.spec.target.toUpperCase()]);
  assert.throws(() => inf.addIndexer('upper', () => []), /index upper already exists/);
  inf.start();
  try {
    await inf.waitForSync();
    const names = (index: string, v: string) => inf.byIndex(index, v).map((o) => o.metadata?.name).sort();
    assert.deepEqual(names('upper', 'T1'), ['a'], 'listed objects are in the added index');
    assert.deepEqual(names('target', 't1'), ['a'], 'the first index is kept');
    push({ type: 'MODIFIED', object: obj('b', 't1', 3) });
    for (let i = 0; i < 200 && names('upper', 'T1').length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(names('upper', 'T1'), ['a', 'b'], 'watch events update it');
    assert.deepEqual(names('upper', 'T2'), []);
    assert.throws(() => inf.addIndexer('late', () => []), /added after the informer started/);
  } finally {
    await inf.stop();
  }
});
