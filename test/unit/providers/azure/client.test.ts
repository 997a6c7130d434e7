// AzureKeyVaultClient's own decisions (deadline, cancellation, metrics, find filtering) with
// in-memory stand-ins for the SDK clients; the SDK against real HTTPS servers is covered by
// test/integration/externalsecret-azure.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AzureKeyVaultClient, type AzureClients } from '../../../../src/providers/azure/client.ts';
import { LimitedHttpClient } from '../../../../src/providers/azure/http-client.ts';
import { ProviderError, type ApiCallDetail } from '../../../../src/providers/provider.ts';

interface StubSecret { name: string; value: string; enabled?: boolean; tags?: Record<string, string> }

/** Never answers; rejects with the signal's reason when it aborts, as the SDK does. */
function hang(abortSignal: AbortSignal | undefined): Promise<never> {
  return new Promise((_, reject) => abortSignal?.addEventListener('abort', () => reject(abortSignal.reason), { once: true }));
}

function client(o: { secrets?: StubSecret[]; hangReads?: boolean; deadlineMs?: number; pageSize?: number } = {}) {
  const calls: Array<[string, ApiCallDetail | undefined]> = [];
  const all = o.secrets ?? [];
  const pageSize = o.pageSize ?? 2;
  const secrets = {
    getSecret: (name: string, opts: { abortSignal?: AbortSignal }) => {
      if (o.hangReads) return hang(opts.abortSignal);
      const s = all.find((x) => x.name === name);
      if (!s) return Promise.reject(Object.assign(new Error('missing'), { name: 'RestError', statusCode: 404, code: 'SecretNotFound' }));
      return Promise.resolve({ name, value: s.value, properties: { tags: s.tags } });
    },
    listPropertiesOfSecrets: () => ({
      byPage: () => {
        let at = 0;
        return {
          next: () => {
            if (at >= all.length) return Promise.resolve({ done: true, value: undefined });
            const page = all.slice(at, at + pageSize).map((s) => ({ name: s.name, enabled: s.enabled ?? true, tags: s.tags }));
            at += pageSize;
            return Promise.resolve({ done: false, value: page });
          },
        };
      },
    }),
  };
  const http = new LimitedHttpClient({ deadlineMs: o.deadlineMs ?? 1000, maxResponseBytes: 1024 });
  const c = new AzureKeyVaultClient({
    vaultUrl: 'https://v.vault.azure.net',
    secrets: secrets as unknown as AzureClients['secrets'],
    keys: {} as AzureClients['keys'],
    certificates: {} as AzureClients['certificates'],
    http,
    limits: { deadlineMs: o.deadlineMs ?? 1000, maxResponseBytes: 1024 },
    onApiCall: (op, d) => calls.push([op, d]),
  });
  return { c, calls };
}

const text = (v: { value: Uint8Array }) => Buffer.from(v.value).toString('utf8');

test('each read is one counted call with ESO labels', async () => {
  const { c, calls } = client({ secrets: [{ name: 'db', value: 'v' }] });
  assert.equal(text(await c.getValue({ key: 'db' })), 'v');
  await assert.rejects(c.getValue({ key: 'nope' }), (e: unknown) => e instanceof ProviderError && e.kind === 'NotFound');
  assert.deepEqual(calls, [['GetSecret', { provider: 'Azure/KeyVault', status: 'success' }], ['GetSecret', { provider: 'Azure/KeyVault', status: 'error' }]]);
  await c.close();
});

test('a call past --provider-timeout fails as Unreachable naming the deadline', async () => {
  const { c } = client({ hangReads: true, deadlineMs: 50 });
  const t0 = Date.now();
  await assert.rejects(c.getValue({ key: 'db' }), (e: unknown) => e instanceof ProviderError && e.kind === 'Unreachable' && /deadline of 50ms exceeded/.test(e.message));
  assert.ok(Date.now() - t0 < 1000);
  await c.close();
});

test("the caller's abort ends the call at once with the caller's reason, not a provider failure", async () => {
  const { c } = client({ hangReads: true, deadlineMs: 10_000 });
  const ac = new AbortController();
  setTimeout(() => ac.abort(new DOMException('reconcile deadline', 'TimeoutError')), 20);
  await assert.rejects(c.getValue({ key: 'db' }, ac.signal), (e: unknown) => e instanceof DOMException && e.message === 'reconcile deadline');
  await c.close();
});

test('find keeps enabled secrets matching the RE2 name and every tag, across pages', async () => {
  const { c, calls } = client({
    secrets: [
      { name: 'app-a', value: '1', tags: { team: 'x' } },
      { name: 'app-b', value: '2', tags: { team: 'y' } },
      { name: 'app-c', value: '3', tags: { team: 'x' }, enabled: false },
      { name: 'db', value: '4', tags: { team: 'x' } },
      { name: 'app-d', value: '5', tags: { team: 'x', env: 'prod' } },
    ],
  });
  const found = await c.findValues({ name: { regexp: '^app-' }, tags: { team: 'x' } });
  assert.deepEqual([...found].map(([k, v]) => [k, text(v)]), [['app-a', '1'], ['app-d', '5']]);
  assert.equal(calls.filter(([op]) => op === 'GetSecrets').length, 4, 'three pages and the end, each a counted call');
  await assert.rejects(c.findValues({ path: 'app' }), /find\.path: not supported by Azure Key Vault/);
  await assert.rejects(c.findValues({ name: { regexp: '(' } }), /find\.name\.regexp/);
  await c.close();
});

test('the HTTP client refuses clear text, and cuts answers at the cap and the deadline', async () => {
  const http = await import('node:http');
  const server = http.createServer((req, res) => {
    if (req.url === '/big') {
      res.writeHead(200);
      res.end('x'.repeat(4096));
    } else if (req.url === '/slow') {
      res.writeHead(200);
      res.write('x'); // then nothing: a drip that never ends
    } else res.end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const { createHttpHeaders, createPipelineRequest } = await import('@azure/core-rest-pipeline');
  const limited = new LimitedHttpClient({ deadlineMs: 200, maxResponseBytes: 1024 });
  const request = (path: string, allowInsecureConnection: boolean) =>
    ({ ...createPipelineRequest({ url: `http://127.0.0.1:${port}${path}`, headers: createHttpHeaders() }), allowInsecureConnection });
  try {
    await assert.rejects(limited.sendRequest(request('/', false)), /over http \(https only\)/);
    // IMDS is the one plain-HTTP endpoint the SDK asks for (allowInsecureConnection).
    assert.equal((await limited.sendRequest(request('/', true))).status, 200);
    await assert.rejects(limited.sendRequest(request('/big', true)), (e: unknown) => (e as { code?: string }).code === 'RESPONSE_TOO_LARGE');
    await assert.rejects(limited.sendRequest(request('/slow', true)), (e: unknown) => (e as { code?: string }).code === 'DEADLINE_EXCEEDED');
  } finally {
    limited.close();
    server.closeAllConnections();
    server.close();
  }
});
