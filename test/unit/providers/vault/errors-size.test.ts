// A tenant's Vault server can answer with megabytes of `errors`: the transport keeps only what
// Vault really sends (16 entries of 1,000 characters), so classifying the error stays cheap.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { classifyVault } from '../../../../src/providers/vault/errors.ts';
import { VaultTransport } from '../../../../src/providers/vault/http.ts';

test('a 403 with megabytes of "token…" errors is cut before it is classified', async () => {
  const huge = 'token'.repeat(200_000); // 1 MB, no "expired": a backtracking `token.*expired` is quadratic on it
  const server = http.createServer((_req, res) => {
    res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: Array.from({ length: 8 }, () => huge) }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const vault = new VaultTransport({ server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, deadlineMs: 5000 });
  try {
    const res = await vault.send({ operation: 'ReadSecretData', path: 'secret/data/x' }, 'GET', 'secret/data/x');
    assert.equal(res.status, 403);
    assert.equal(res.errors.length, 8);
    assert.ok(res.errors.every((e) => e.length === 1000), 'each error is cut to 1,000 characters');
    const t0 = performance.now();
    assert.equal(classifyVault(res.status, res.errors), 'AccessDenied');
    assert.ok(performance.now() - t0 < 500, 'classified in well under a second');
  } finally {
    vault.close();
    server.close();
  }
});
