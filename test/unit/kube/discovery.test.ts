// The discovery cache (src/kube/discovery.ts): answers from the cache, asks again on a miss at
// most once per interval, holds a bounded number of group versions, and never puts a malformed
// apiVersion into a request path.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiError } from '../../../src/kube/client.ts';
import { Discovery, parseApiVersion } from '../../../src/kube/discovery.ts';

function fakeServer(lists: Record<string, Array<{ name: string; kind: string; namespaced: boolean }>>) {
  const paths: string[] = [];
  return {
    paths,
    request: async <T>(_method: string, path: string): Promise<T> => {
      paths.push(path);
      const list = lists[path];
      if (!list) throw new ApiError(404, { kind: 'Status', code: 404, reason: 'NotFound', message: 'not found' }, 'GET', path);
      return { resources: list } as T;
    },
  };
}

describe('Discovery', () => {
  test('resolves namespaced and cluster-scoped kinds, skipping subresources', async () => {
    const server = fakeServer({
      '/apis/apps/v1': [{ name: 'deployments', kind: 'Deployment', namespaced: true }, { name: 'deployments/scale', kind: 'Scale', namespaced: true }],
      '/api/v1': [{ name: 'namespaces', kind: 'Namespace', namespaced: false }],
    });
    const d = new Discovery(server);
    assert.deepEqual(await d.resolve('apps/v1', 'Deployment'), { found: { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true } });
    assert.deepEqual(await d.resolve('apps/v1', 'Scale'), { missing: 'kind' });
    assert.equal(((await d.resolve('v1', 'Namespace')) as { found: { namespaced: boolean } }).found.namespaced, false);
    assert.deepEqual(await d.resolve('nothere.example.com/v1', 'X'), { missing: 'groupVersion' });
  });

  test('a hit is cached; a miss is asked again only after the miss interval; entries are bounded', async () => {
    let now = 0;
    const lists: Record<string, Array<{ name: string; kind: string; namespaced: boolean }>> = { '/apis/a.example.com/v1': [{ name: 'things', kind: 'Thing', namespaced: true }] };
    const server = fakeServer(lists);
    const d = new Discovery(server, { missRefreshMs: 10_000, ttlMs: 60_000, maxEntries: 2, now: () => now });
    await d.resolve('a.example.com/v1', 'Thing');
    await d.resolve('a.example.com/v1', 'Thing');
    assert.equal(server.paths.length, 1);
    await d.resolve('a.example.com/v1', 'Other');
    assert.equal(server.paths.length, 1, 'a miss right after a read is answered from the cache');
    lists['/apis/a.example.com/v1']!.push({ name: 'others', kind: 'Other', namespaced: true });
    now = 10_000;
    assert.ok('found' in (await d.resolve('a.example.com/v1', 'Other')), 'a kind installed since is found once the interval passed');
    assert.equal(server.paths.length, 2);
    for (const g of ['b', 'c', 'd', 'e']) await d.resolve(`${g}.example.com/v1`, 'X');
    assert.equal(d.size, 2);
  });

  test('a shared read outlives the caller that started it: its abort ends its own wait only', async () => {
    let answer!: () => void;
    const signals: AbortSignal[] = [];
    const server = {
      paths: [] as string[],
      request: async <T>(_m: string, path: string, o?: { signal?: AbortSignal | undefined }): Promise<T> => {
        server.paths.push(path);
        signals.push(o!.signal!);
        await new Promise<void>((r) => (answer = r));
        return { resources: [{ name: 'things', kind: 'Thing', namespaced: true }] } as T;
      },
    };
    const d = new Discovery(server);
    const first = new AbortController();
    const a = d.resolve('a.example.com/v1', 'Thing', first.signal);
    const b = d.resolve('a.example.com/v1', 'Thing', new AbortController().signal);
    await Promise.resolve();
    first.abort(new Error('the first reconcile timed out'));
    await assert.rejects(a, /the first reconcile timed out/);
    assert.equal(signals[0]!.aborted, false, 'the read goes on for the other caller');
    answer();
    assert.ok('found' in (await b), 'the other caller gets the answer');
    assert.equal(server.paths.length, 1, 'one request for both');
  });

  test('a read nobody waits for any more is aborted, and the next caller starts a new one', async () => {
    const signals: AbortSignal[] = [];
    const server = {
      request: async <T>(_m: string, _path: string, o?: { signal?: AbortSignal | undefined }): Promise<T> => {
        const s = o!.signal!;
        signals.push(s);
        if (signals.length === 1) await new Promise((_r, reject) => s.addEventListener('abort', () => reject(s.reason as Error)));
        return { resources: [{ name: 'things', kind: 'Thing', namespaced: true }] } as T;
      },
    };
    const d = new Discovery(server);
    const only = new AbortController();
    const a = d.resolve('a.example.com/v1', 'Thing', only.signal);
    await Promise.resolve();
    only.abort(new Error('gone'));
    await assert.rejects(a, /gone/);
    assert.equal(signals[0]!.aborted, true, 'the request is cancelled');
    assert.ok('found' in (await d.resolve('a.example.com/v1', 'Thing')));
    assert.equal(signals.length, 2);
  });

  test('malformed names are refused without a request', async () => {
    const server = fakeServer({});
    const d = new Discovery(server);
    for (const v of ['../../api/v1', 'apps/v1/x', 'Apps/v1', 'apps/1', '', 'a/b/c', 'v1?watch=1']) assert.deepEqual(await d.resolve(v, 'Thing'), { invalid: 'apiVersion' }, v);
    assert.deepEqual(await d.resolve('v1', 'config/map'), { invalid: 'kind' });
    assert.deepEqual(server.paths, []);
    assert.deepEqual(parseApiVersion('config.example.com/v1beta2'), { group: 'config.example.com', version: 'v1beta2' });
  });
});
