// The apiserver client's connection pool over TLS (a CA, a client certificate and key, as a
// kubeconfig gives them): requests reuse kept-alive connections, concurrent ones open more, and
// the pool never mixes anything up although it names every connection alike (one server, one set
// of TLS settings per client). A local HTTPS server with a self-signed certificate plays the
// apiserver and counts the connections it accepts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { KubeClient } from '../../../src/kube/client.ts';
import { core } from '../../../src/kube/types.ts';

let dir: string;
const pem = (name: string) => readFileSync(path.join(dir, name));

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-pool-'));
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.crt', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1');
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.crt', '-days', '1', '-subj', '/CN=tessera');
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('requests share kept-alive TLS connections with the client certificate: one at a time reuse one, side by side open more', async () => {
  const connections: TLSSocket[] = [];
  const server = https.createServer({ cert: pem('server.crt'), key: pem('server.key'), ca: pem('client.crt'), requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: req.url!.split('/').pop(), annotations: { client: peer.subject?.CN ?? '' } } }));
  });
  server.on('secureConnection', (s: TLSSocket) => connections.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const b64 = (name: string) => pem(name).toString('base64');
  const kubeconfig = path.join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "https://127.0.0.1:${(server.address() as AddressInfo).port}", certificate-authority-data: "${b64('server.crt')}" } }]
users: [{ name: u, user: { client-certificate-data: "${b64('client.crt')}", client-key-data: "${b64('client.key')}" } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`);
  const client = await KubeClient.create({ kubeconfig, qps: 0, burst: 1 });
  try {
    for (const name of ['a', 'b', 'c', 'd', 'e']) {
      const ns = await client.get(core.namespaces, undefined, name);
      assert.equal(ns.metadata?.name, name);
      assert.equal(ns.metadata?.annotations?.['client'], 'tessera', 'the client certificate was presented');
    }
    assert.equal(connections.length, 1, 'five requests one after another: one connection');
    const side = await Promise.all(['f', 'g', 'h'].map((n) => client.get(core.namespaces, undefined, n)));
    assert.deepEqual(side.map((n) => n.metadata?.name), ['f', 'g', 'h']);
    assert.equal(connections.length, 3, 'three side by side: two more connections');
    for (const name of ['i', 'j', 'k', 'l']) await client.get(core.namespaces, undefined, name);
    assert.equal(connections.length, 3, 'then reused, not opened again');
  } finally {
    client.close();
    server.close();
  }
});
