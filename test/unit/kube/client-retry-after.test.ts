// The kube client honours "retry after" answers as client-go does: with priority and fairness
// on, the apiserver answers 429 with Retry-After to a request it could not queue, and the
// controller's client-side rate limit relies on that protection. A local HTTP server plays the
// apiserver's part (status codes and headers only).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { ApiError, MAX_RETRY_AFTER, retryAfterMs, type KubeClient } from '../../../src/kube/client.ts';
import { clientFor } from './local-apiserver.ts';

interface Seen {
  method: string;
  body: string;
  at: number;
}

/** A server whose n-th answer is `answers[n]` (the last one repeats); returns the client and what it saw. */
async function serve(answers: Array<{ code: number; headers?: Record<string, string> }>): Promise<{ client: KubeClient; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', body, at: Date.now() });
      const a = answers[Math.min(seen.length - 1, answers.length - 1)]!;
      res.writeHead(a.code, { 'content-type': 'application/json', ...a.headers });
      res.end(a.code < 300 ? JSON.stringify({ kind: 'Namespace', metadata: { name: 'n' } }) : JSON.stringify({ kind: 'Status', code: a.code, reason: 'TooManyRequests', message: 'too many requests, please try again later' }));
    });
  });
  const client = await clientFor(server);
  return { client, seen, close: () => (client.close(), new Promise((r) => server.close(() => r()))) };
}

test('retryAfterMs: 429 and 5xx with whole seconds ask for a retry; anything else does not', () => {
  assert.equal(retryAfterMs(429, '1'), 1000);
  assert.equal(retryAfterMs(503, ' 2 '), 2000);
  assert.equal(retryAfterMs(429, ['3']), 3000);
  assert.equal(retryAfterMs(429, '0'), 0);
  assert.equal(retryAfterMs(429, '86400'), 60_000, 'capped');
  assert.equal(retryAfterMs(429, undefined), undefined, 'no header: no retry');
  assert.equal(retryAfterMs(429, 'Wed, 21 Oct 2026 07:28:00 GMT'), undefined, 'HTTP dates are not read (client-go does not either)');
  assert.equal(retryAfterMs(429, '-1'), undefined);
  assert.equal(retryAfterMs(409, '1'), undefined);
  assert.equal(retryAfterMs(404, '1'), undefined);
});

test('a 429 with Retry-After is sent again after the delay, body included, and then succeeds', async () => {
  const s = await serve([{ code: 429, headers: { 'retry-after': '1' } }, { code: 201 }]);
  try {
    const t0 = Date.now();
    const created = await s.client.request<{ metadata: { name: string } }>('POST', '/api/v1/namespaces', { body: { metadata: { name: 'n' } } });
    assert.equal(created.metadata.name, 'n');
    assert.equal(s.seen.length, 2);
    assert.deepEqual(s.seen.map((x) => x.method), ['POST', 'POST']);
    assert.equal(s.seen[1]!.body, s.seen[0]!.body);
    assert.ok(s.seen[1]!.at - s.seen[0]!.at >= 950, `waited ${s.seen[1]!.at - s.seen[0]!.at} ms`);
    assert.ok(Date.now() - t0 < 5000);
  } finally {
    await s.close();
  }
});

test('a 429 without Retry-After is returned at once as an ApiError', async () => {
  const s = await serve([{ code: 429 }]);
  try {
    await assert.rejects(s.client.request('GET', '/api/v1/namespaces/n'), (e: unknown) => e instanceof ApiError && e.code === 429);
    assert.equal(s.seen.length, 1);
  } finally {
    await s.close();
  }
});

test(`retries stop after ${MAX_RETRY_AFTER}: the last answer's error is returned`, async () => {
  const s = await serve([{ code: 429, headers: { 'retry-after': '0' } }]);
  try {
    await assert.rejects(s.client.request('GET', '/api/v1/namespaces/n'), (e: unknown) => e instanceof ApiError && e.code === 429);
    assert.equal(s.seen.length, MAX_RETRY_AFTER + 1);
  } finally {
    await s.close();
  }
});

test("the wait is cancelled with the call's signal: no further request is sent", async () => {
  const s = await serve([{ code: 429, headers: { 'retry-after': '30' } }, { code: 200 }]);
  try {
    const t0 = Date.now();
    const signal = AbortSignal.timeout(300);
    await assert.rejects(s.client.request('GET', '/api/v1/namespaces/n', { signal }), (e: Error) => e.name === 'TimeoutError');
    assert.ok(Date.now() - t0 < 3000, `rejected after ${Date.now() - t0} ms`);
    assert.equal(s.seen.length, 1);
  } finally {
    await s.close();
  }
});
