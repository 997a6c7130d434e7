// What the kube client puts on the wire as the request target: the path as the caller built it
// (no URL normalisation of "." or ".." segments, which would turn a refused name into another
// request), the query parameters that have a value, and the server URL's own path prefix. A local
// HTTP server plays the apiserver's part and records each request's method and target.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { KubeClient, queryString, serverOrigin } from '../../../src/kube/client.ts';
import { core, type Secret } from '../../../src/kube/types.ts';
import { clientFor } from './local-apiserver.ts';

async function recorder(pathPrefix = ''): Promise<{ client: KubeClient; seen: string[]; close: () => Promise<void> }> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    req.resume().on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Secret', metadata: { name: 'x', resourceVersion: '7' } }));
    });
  });
  const client = await clientFor(server, undefined, pathPrefix);
  return { client, seen, close: () => (client.close(), new Promise((r) => server.close(() => r()))) };
}

test('a name of "." or ".." is sent as written, so the apiserver refuses it, and not resolved into another path', async () => {
  const s = await recorder();
  try {
    await s.client.get(core.secrets, 'team-a', '..');
    await s.client.get(core.secrets, 'team-a', '.');
    await s.client.delete(core.secrets, 'team-a', '..');
    // new URL() would have made these GET /api/v1/namespaces/team-a/ and GET .../secrets/.
    assert.deepEqual(s.seen, [
      'GET /api/v1/namespaces/team-a/secrets/..',
      'GET /api/v1/namespaces/team-a/secrets/.',
      'DELETE /api/v1/namespaces/team-a/secrets/..',
    ]);
  } finally {
    await s.close();
  }
});

test('query parameters: only those with a value, encoded so the server reads back what was given', async () => {
  const s = await recorder();
  try {
    await s.client.list(core.secrets, 'team-a', { labelSelector: 'app in (a,b),!legacy', fieldSelector: 'metadata.name=x y', limit: 500, continue: '' });
    await s.client.create(core.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'n&m', namespace: 'team-a' } } as Secret);
    const [list, create] = s.seen.map((l) => new URL(l.split(' ')[1]!, 'http://x'));
    assert.equal(list!.pathname, '/api/v1/namespaces/team-a/secrets');
    assert.deepEqual([...list!.searchParams], [['labelSelector', 'app in (a,b),!legacy'], ['fieldSelector', 'metadata.name=x y'], ['limit', '500']], 'an empty continue is not sent');
    assert.equal(create!.pathname, '/api/v1/namespaces/team-a/secrets');
    assert.deepEqual([...create!.searchParams], [['fieldManager', 'tessera']], 'dryRun unset is not sent');
  } finally {
    await s.close();
  }
});

test('a server URL with a path (an API proxy) prefixes every request; a trailing slash is not doubled', async () => {
  const s = await recorder('/k8s/clusters/c-1/');
  try {
    await s.client.get(core.secrets, 'team-a', 's');
    await s.client.list(core.namespaces, undefined, { limit: 1 });
    assert.deepEqual(s.seen, ['GET /k8s/clusters/c-1/api/v1/namespaces/team-a/secrets/s', 'GET /k8s/clusters/c-1/api/v1/namespaces?limit=1']);
  } finally {
    await s.close();
  }
});

test('serverOrigin and queryString', () => {
  assert.deepEqual(serverOrigin('https://[::1]:6443'), { tls: true, hostname: '::1', port: 6443, base: '' });
  assert.deepEqual(serverOrigin('https://kube.example:443/'), { tls: true, hostname: 'kube.example', port: undefined, base: '' }, 'the default port is left to the agent');
  assert.deepEqual(serverOrigin('http://10.0.0.1/proxy//'), { tls: false, hostname: '10.0.0.1', port: undefined, base: '/proxy' });
  assert.equal(queryString(undefined), '');
  assert.equal(queryString({ a: undefined, b: '' }), '');
  assert.equal(queryString({ watch: true, timeoutSeconds: 30 }), '?watch=true&timeoutSeconds=30');
  assert.equal(queryString({ x: '1' }, true), '&x=1', 'after a path that has a query');
  assert.equal(queryString({ 'a b': 'c&d=e' }), '?a%20b=c%26d%3De');
});
