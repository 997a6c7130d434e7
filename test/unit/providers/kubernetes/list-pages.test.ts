// A hostile `server.url` that answers every Secret list with an empty page and a continue token
// must not hold a reconcile worker forever: the listing stops after a bounded number of pages.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { KubeTransport } from '../../../../src/providers/kubernetes/http.ts';
import { KubernetesSecretsClient, MAX_LIST_PAGES } from '../../../../src/providers/kubernetes/index.ts';

test('an endless chain of empty pages ends with a clear error after MAX_LIST_PAGES requests', async () => {
  let requests = 0;
  const server = http.createServer((_req, res) => {
    requests++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'SecretList', items: [], metadata: { continue: `c${requests}` } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const transport = new KubeTransport({ server: url, token: async () => 'token', deadlineMs: 5000 });
  try {
    const client = new KubernetesSecretsClient(transport, 'tenant');
    await assert.rejects(client.findValues({ tags: { team: 'a' } }), (e: Error) => /did not end after \d+ pages/.test(e.message));
    assert.equal(requests, MAX_LIST_PAGES, 'exactly the capped number of pages was requested');
  } finally {
    transport.close();
    server.close();
  }
});
