// The apiserver client's HTTP/2 transport against local TLS servers: h2 when the server offers it
// by ALPN, HTTP/1.1 when it does not (or DISABLE_HTTP2 is set), a new connection after the server
// closes one, an aborted stream that leaves the connection usable, and a connection that stops
// answering found by its pings. The real apiserver's side is in test/integration/kube/cancel.test.ts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { KubeClient, http2Allowed } from '../../../src/kube/client.ts';
import { Http2Connection } from '../../../src/kube/http2.ts';
import { core } from '../../../src/kube/types.ts';

let dir: string;
let cert: Buffer;
let key: Buffer;

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-http2-'));
  // A self-signed certificate for 127.0.0.1, trusted by the clients as their CA.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { cwd: dir, stdio: 'ignore' });
  cert = readFileSync(path.join(dir, 'cert.pem'));
  key = readFileSync(path.join(dir, 'key.pem'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function kubeconfigFor(port: number): string {
  const file = path.join(dir, `kubeconfig-${port}`);
  writeFileSync(file, `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "https://127.0.0.1:${port}", certificate-authority-data: "${cert.toString('base64')}" } }]
users: [{ name: u, user: { token: t } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`);
  return file;
}

const namespace = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, resourceVersion: '1' } });

/** An apiserver stand-in answering GET /api/v1/namespaces/<name> with that namespace, and noting each request's protocol. */
function answer(protocols: string[]) {
  return (req: { httpVersion: string; headers: Record<string, unknown>; url?: string | undefined }, res: { setHeader(k: string, v: string): unknown; end(body: string): unknown }) => {
    protocols.push(req.httpVersion);
    assert.equal(req.headers['authorization'], 'Bearer t');
    const name = req.url!.split('?')[0]!.split('/').pop()!;
    if (name === 'slow') return; // never answered
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(namespace(name)));
  };
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

/** An HTTP/2 apiserver stand-in and a client of it; `sessions` are the connections it accepted. */
async function h2Server(): Promise<{ client: KubeClient; sessions: http2.ServerHttp2Session[]; protocols: string[]; close: () => void }> {
  const protocols: string[] = [];
  const sessions: http2.ServerHttp2Session[] = [];
  const server = http2.createSecureServer({ cert, key }, answer(protocols));
  server.on('session', (s) => sessions.push(s));
  const client = await KubeClient.create({ kubeconfig: kubeconfigFor(await listen(server)), qps: 0, burst: 1 });
  return {
    client,
    sessions,
    protocols,
    close: () => {
      client.close();
      server.close();
    },
  };
}

test('speaks HTTP/2 to a server that offers it, every request on one connection', async () => {
  const { client, sessions, protocols, close } = await h2Server();
  try {
    const got = await Promise.all(['a', 'b', 'c', 'd'].map((n) => client.get(core.namespaces, undefined, n)));
    assert.deepEqual(got.map((n) => n.metadata!.name), ['a', 'b', 'c', 'd']);
    assert.deepEqual(protocols, ['2.0', '2.0', '2.0', '2.0']);
    assert.equal(sessions.length, 1, 'one connection carried the four requests');
    assert.equal(client.protocol, 'h2');
  } finally {
    close();
  }
});

test('uses HTTP/1.1 when the server does not offer h2, and when DISABLE_HTTP2 is set', async () => {
  const protocols: string[] = [];
  const server = https.createServer({ cert, key }, answer(protocols));
  const port = await listen(server);
  const client = await KubeClient.create({ kubeconfig: kubeconfigFor(port), qps: 0, burst: 1 });
  const h2server = http2.createSecureServer({ cert, key, allowHTTP1: true }, answer(protocols));
  const disabled = await KubeClient.create({ kubeconfig: kubeconfigFor(await listen(h2server)), qps: 0, burst: 1, http2: http2Allowed({ DISABLE_HTTP2: 'true' }) });
  try {
    assert.equal((await client.get(core.namespaces, undefined, 'a')).metadata!.name, 'a');
    assert.equal((await client.get(core.namespaces, undefined, 'b')).metadata!.name, 'b');
    assert.equal(client.protocol, 'http/1.1');
    assert.equal((await disabled.get(core.namespaces, undefined, 'c')).metadata!.name, 'c');
    assert.deepEqual(protocols, ['1.1', '1.1', '1.1']);
    assert.equal(http2Allowed({}), true);
    assert.equal(http2Allowed({ DISABLE_HTTP2: '' }), true, 'empty is unset, as for client-go');
  } finally {
    client.close();
    disabled.close();
    server.close();
    h2server.close();
  }
});

test('a connection the server closes (GOAWAY) is replaced at the next request', async () => {
  const { client, sessions, close } = await h2Server();
  try {
    await client.get(core.namespaces, undefined, 'a');
    sessions[0]!.goaway();
    sessions[0]!.close();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await client.get(core.namespaces, undefined, 'b')).metadata!.name, 'b');
    assert.equal(sessions.length, 2, 'a second connection');
    assert.equal(client.protocol, 'h2');
  } finally {
    close();
  }
});

test('an aborted request ends its own stream only: the connection keeps serving', async () => {
  const { client, sessions, close } = await h2Server();
  try {
    const reason = new DOMException('deadline', 'TimeoutError');
    const ac = new AbortController();
    setTimeout(() => ac.abort(reason), 100);
    await assert.rejects(client.get(core.namespaces, undefined, 'slow', { signal: ac.signal }), (e) => e === reason);
    assert.equal((await client.get(core.namespaces, undefined, 'after')).metadata!.name, 'after');
    assert.equal(sessions.length, 1);
  } finally {
    close();
  }
});

/**
 * An HTTP/2 server behind a TCP relay; `freeze()` drops every byte of the connections open at that
 * moment, both ways, as a peer that vanished without a FIN or RST. Later connections pass.
 */
async function behindRelay(): Promise<{ port: number; freeze: () => void; close: () => void }> {
  const server = http2.createSecureServer({ cert, key }, (req, res) => {
    if (req.url === '/watch') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"type":"ADDED"}\n');
      return; // the stream stays open
    }
    if (req.url === '/slow') return; // never answered
    res.writeHead(200);
    res.end('{}');
  });
  const target = await listen(server);
  const frozen = new Set<net.Socket>();
  const open = new Set<net.Socket>();
  const relay = net.createServer((inbound) => {
    const outbound = net.connect(target, '127.0.0.1');
    open.add(inbound);
    inbound.on('data', (d) => (frozen.has(inbound) ? undefined : outbound.write(d)));
    outbound.on('data', (d) => (frozen.has(inbound) ? undefined : inbound.write(d)));
    inbound.on('error', () => outbound.destroy());
    outbound.on('error', () => inbound.destroy());
    inbound.on('close', () => {
      open.delete(inbound);
      outbound.destroy();
    });
  });
  const port = await listen(relay);
  return {
    port,
    freeze: () => open.forEach((c) => frozen.add(c)),
    close: () => {
      relay.close();
      server.close();
      open.forEach((c) => c.destroy());
    },
  };
}

test('a connection that stops answering is closed by its unanswered ping; the next request connects again', async () => {
  const relay = await behindRelay();
  const conn = new Http2Connection(new URL(`https://127.0.0.1:${relay.port}`), { ca: cert, rejectUnauthorized: true }, { pingEveryMs: 200, pingTimeoutMs: 300 });
  try {
    const watch = await conn.request('GET', '/watch', {}, undefined, undefined);
    assert.ok(watch);
    assert.equal(watch.statusCode, 200);
    const ended = new Promise<unknown>((resolve) => {
      watch.body.on('error', resolve);
      watch.body.on('close', () => resolve('closed'));
      watch.body.resume();
    });
    relay.freeze();
    const started = Date.now();
    const outcome = await Promise.race([ended, new Promise((r) => setTimeout(() => r('still open'), 3000))]);
    const took = Date.now() - started;
    assert.notEqual(outcome, 'still open', 'the watch on the dead connection ended');
    assert.ok(took < 2000, `the dead connection was given up within ${took} ms`);
    const next = await conn.request('GET', '/plain', {}, undefined, AbortSignal.timeout(2000));
    assert.equal(next?.statusCode, 200);
    next!.body.resume();
  } finally {
    conn.close();
    relay.close();
  }
});

test('a request given up by its deadline pings the connection at once: a dead one is replaced before the next scheduled ping', async () => {
  const relay = await behindRelay();
  // No scheduled ping within the test: only the deadline's ping can find the dead connection.
  const conn = new Http2Connection(new URL(`https://127.0.0.1:${relay.port}`), { ca: cert, rejectUnauthorized: true }, { pingEveryMs: 3_600_000, pingTimeoutMs: 300 });
  try {
    const first = await conn.request('GET', '/plain', {}, undefined, undefined);
    first!.body.resume();
    relay.freeze();
    await assert.rejects(conn.request('GET', '/plain', {}, undefined, AbortSignal.timeout(200)), (e: Error) => e.name === 'TimeoutError');
    await new Promise((r) => setTimeout(r, 600));
    // The frozen connection was closed by the unanswered ping: this goes on a new one.
    const next = await conn.request('GET', '/plain', {}, undefined, AbortSignal.timeout(2000));
    assert.equal(next?.statusCode, 200);
    next!.body.resume();
  } finally {
    conn.close();
    relay.close();
  }
});
