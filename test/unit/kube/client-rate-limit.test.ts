// rest_client_rate_limiter_duration_seconds says whether --client-qps held requests back: the
// time each request waited for its token, as client-go reports it. A local HTTP server plays the
// apiserver's part (it answers at once, so any wait is the client's own).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { clientMetrics } from '../../../src/kube/metrics.ts';
import { clientFor } from './local-apiserver.ts';

/** Count and sum of the histogram for `verb`. */
async function waited(verb: string): Promise<{ count: number; sum: number }> {
  const values = (await clientMetrics.rateLimiterDuration.get()).values.filter((v) => v.labels.verb === verb);
  const of = (suffix: string) => values.find((v) => v.metricName === `rest_client_rate_limiter_duration_seconds${suffix}`)?.value ?? 0;
  return { count: of('_count'), sum: of('_sum') };
}

async function sixRequests(limit: { qps: number; burst: number }, verb: string): Promise<{ count: number; sum: number }> {
  const server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  const client = await clientFor(server, limit);
  try {
    const before = await waited(verb);
    await Promise.all(Array.from({ length: 6 }, () => client.request(verb, '/api/v1/namespaces')));
    const after = await waited(verb);
    return { count: after.count - before.count, sum: after.sum - before.sum };
  } finally {
    client.close();
    await new Promise((r) => server.close(r));
  }
}

test('requests held back by the client-side limit add their waits, by verb', async () => {
  // Burst 2 at 20/s: two go at once, the next four wait 50, 100, 150 and 200 ms (0.5 s in all).
  const w = await sixRequests({ qps: 20, burst: 2 }, 'GET');
  assert.equal(w.count, 6);
  assert.ok(w.sum >= 0.45 && w.sum < 2, `waited ${w.sum} s in all`);
});

test('without a limit (--client-qps 0) every request is observed with no wait', async () => {
  const w = await sixRequests({ qps: 0, burst: 1 }, 'PUT');
  assert.equal(w.count, 6);
  assert.ok(w.sum < 0.05, `waited ${w.sum} s in all`);
});
