// The shared provider HTTP exchange against real local servers that misbehave: an endless body,
// a body that drips, a declared oversized body, a connection cut mid-answer. Each must settle the
// promise with a typed error within the deadline, and nothing may throw out of a handler.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { liveHeap } from '../../heap.ts';
import { CallLimitError, exchange, networkError } from '../../../../src/providers/common/http.ts';
import type { CallLimits } from '../../../../src/providers/common/http.ts';
import { ProviderError } from '../../../../src/providers/provider.ts';
import { VaultTransport } from '../../../../src/providers/vault/http.ts';
import { KubeTransport } from '../../../../src/providers/kubernetes/http.ts';

let server: http.Server;
let base: string;
const timers = new Set<NodeJS.Timeout>();
const agent = new http.Agent({ keepAlive: true });

before(async () => {
  server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/ok') {
      res.end('{"ok":true}');
    } else if (path === '/endless') {
      const chunk = Buffer.alloc(64 * 1024, 'a');
      const pump = (): void => {
        while (res.write(chunk));
        res.once('drain', pump);
      };
      res.writeHead(200);
      pump();
    } else if (path === '/declared') {
      res.writeHead(200, { 'content-length': String(1024 * 1024 * 1024) });
      res.write('{');
    } else if (path === '/drip') {
      res.writeHead(200);
      const t = setInterval(() => res.write(' '), 100);
      timers.add(t);
      res.on('close', () => clearInterval(t));
    } else if (path === '/cut') {
      res.writeHead(200, { 'content-length': '100' });
      res.write('{"partial":');
      setTimeout(() => res.destroy(), 20);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  for (const t of timers) clearInterval(t);
  agent.destroy();
  server.closeAllConnections();
  server.close();
});

const limits = (deadlineMs: number, maxResponseBytes = 1024 * 1024): CallLimits => ({ deadlineMs, maxResponseBytes });
const call = (path: string, l: CallLimits, signal?: AbortSignal) => exchange({ url: new URL(base + path), method: 'GET', headers: {}, agent, limits: l, signal });

test('a normal answer is returned whole', async () => {
  const a = await call('/ok', limits(2000));
  assert.equal(a.status, 200);
  assert.equal(a.text, '{"ok":true}');
});

test('an endless body is cut at the cap with RESPONSE_TOO_LARGE', async () => {
  const started = performance.now();
  await assert.rejects(call('/endless', limits(10_000, 256 * 1024)), (e: unknown) => e instanceof CallLimitError && e.code === 'RESPONSE_TOO_LARGE');
  assert.ok(performance.now() - started < 5000);
});

test('a declared content-length over the cap is refused before reading', async () => {
  await assert.rejects(call('/declared', limits(10_000)), (e: unknown) => e instanceof CallLimitError && e.code === 'RESPONSE_TOO_LARGE');
});

test('a dripping body is cut at the total deadline, not kept alive by each byte', async () => {
  const started = performance.now();
  await assert.rejects(call('/drip', limits(600)), (e: unknown) => e instanceof CallLimitError && e.code === 'DEADLINE_EXCEEDED');
  const took = performance.now() - started;
  assert.ok(took >= 550 && took < 2000, `took ${took} ms`);
});

test('a connection cut mid-answer is an error, not a truncated answer', async () => {
  await assert.rejects(call('/cut', limits(5000)), (e: unknown) => e instanceof Error && !(e instanceof CallLimitError));
});

test("a caller's signal aborts the call at once, rejecting with the signal's own reason", async () => {
  const ctl = new AbortController();
  setTimeout(() => ctl.abort(), 100);
  const started = performance.now();
  await assert.rejects(call('/drip', limits(10_000), ctl.signal), (e: unknown) => e === ctl.signal.reason && (e as Error).name === 'AbortError');
  assert.ok(performance.now() - started < 1000);
  // A deadline signal of the caller (a reconcile's) is its TimeoutError, not the call's CallLimitError.
  await assert.rejects(call('/drip', limits(10_000), AbortSignal.timeout(100)), (e: unknown) => (e as Error).name === 'TimeoutError' && !(e instanceof CallLimitError));
});

test('networkError words: deadline and cap are named with their values', () => {
  const d = networkError('Vault ReadSecretData "x"', 'http://h', new CallLimitError('DEADLINE_EXCEEDED', 30_000));
  assert.ok(d instanceof ProviderError);
  assert.equal(d.kind, 'Unreachable');
  assert.match(d.message, /deadline of 30s exceeded/);
  const c = networkError('Kubernetes GetSecret "a/b"', 'http://h', new CallLimitError('RESPONSE_TOO_LARGE', 16 * 1024 * 1024));
  assert.equal(c.kind, 'Unknown');
  assert.match(c.message, /exceeds the response size cap of 16 MiB/);
});

test('both provider transports use the shared exchange: deadline and cap errors name the call and the limit', async () => {
  const calls: string[] = [];
  const onApiCall = (op: string, d?: { status: string }) => calls.push(`${op}:${d?.status}`);
  // The Vault transport prefixes /v1/: point the whole path at the dripping handler.
  const drip = new URL(base);
  const vault = new VaultTransport({ server: `${drip.origin}/drip?`, deadlineMs: 500, onApiCall });
  const started = performance.now();
  await assert.rejects(vault.send({ operation: 'ReadSecretData', path: 'secret/data/x' }, 'GET', 'secret/data/x'), (e: unknown) => {
    assert.ok(e instanceof ProviderError);
    assert.equal(e.kind, 'Unreachable');
    assert.match(e.message, /^Vault ReadSecretData "secret\/data\/x": deadline of 500ms exceeded waiting for /);
    return true;
  });
  assert.ok(performance.now() - started < 1500);
  vault.close();
  const kube = new KubeTransport({ server: `${base}/endless?`, deadlineMs: 5000, onApiCall });
  await assert.rejects(kube.request({ operation: 'GetSecret', what: 'secret "ns/x"' }, 'GET', ''), (e: unknown) => {
    assert.ok(e instanceof ProviderError);
    assert.equal(e.kind, 'Unknown');
    assert.match(e.message, /^Kubernetes GetSecret secret "ns\/x": the answer of .* exceeds the response size cap of 16 MiB/);
    return true;
  });
  kube.close();
  assert.deepEqual(calls, ['ReadSecretData:error', 'GetSecret:error']);
});

test('an exchange that ended holds nothing of its deadline: 10,000 calls under one long-lived signal cost no heap', async () => {
  // The reconcile's signal outlives its provider calls; each call's deadline is long.
  const parent = new AbortController();
  const calls = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i += 50) await Promise.all(Array.from({ length: 50 }, () => call('/ok', limits(600_000), parent.signal)));
  };
  // Once before measuring, so that compiled code, sockets and grown tables are not counted.
  await calls(2_000);
  const before = liveHeap();
  await calls(10_000);
  const held = liveHeap() - before;
  // A deadline kept until it fires (AbortSignal.any over AbortSignal.timeout) holds about 1 KB
  // per call: 10 MB here. Heap figures move by a megabyte or two between collections.
  assert.ok(held < 4_000_000, `10,000 finished exchanges still hold ${held} bytes`);
});
