// Cancellation of provider calls against the real peers (OpenBao, moto): a read whose caller's
// signal aborts returns at once with the signal's reason and no value, however long the server
// takes. The servers answer local reads in milliseconds, so a TCP relay in front of each holds the
// answers back for a few seconds: the call is surely in flight when the caller gives up.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { ensurePeers } from '../../peers/index.ts';
import type { PeersEnv } from '../../peers/index.ts';
import { awsProvider } from '../../../src/providers/aws/index.ts';
import type { AWSProvider } from '../../../src/providers/aws/index.ts';
import { LoginCache, newVaultClient } from '../../../src/providers/vault/index.ts';
import { CoalescingReader } from '../../../src/providers/reader.ts';
import { ProviderError } from '../../../src/providers/provider.ts';
import type { ProviderClient, ProviderContext, RemoteValue } from '../../../src/providers/provider.ts';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

const run = `tcx${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const HOLD_MS = 3_000;
let env: PeersEnv;
const clients: ProviderClient[] = [];
const relays: net.Server[] = [];

/** A TCP relay to `target` that holds every answer back `holdMs` before passing it on. */
async function slowRelay(target: string, holdMs: number): Promise<string> {
  const url = new URL(target);
  const server = net.createServer((inbound) => {
    const outbound = net.connect(Number(url.port), url.hostname);
    inbound.pipe(outbound);
    outbound.on('data', (chunk) => setTimeout(() => inbound.destroyed || inbound.write(chunk), holdMs));
    const end = () => (inbound.destroy(), outbound.destroy());
    inbound.on('error', end).on('close', end);
    outbound.on('error', end).on('close', () => setTimeout(() => inbound.destroy(), holdMs));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  relays.push(server);
  return `${url.protocol}//127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

function context(calls: string[], extra: Partial<ProviderContext> = {}): ProviderContext {
  return {
    namespace: 'default',
    env,
    readSecretKey: async () => {
      throw new ProviderError('BadCredentials', 'no secrets in this test');
    },
    createServiceAccountToken: async () => {
      throw new ProviderError('BadCredentials', 'no tokens in this test');
    },
    onApiCall: (op, detail) => calls.push(`${op}:${detail?.status ?? ''}`),
    callDeadlineMs: 30_000,
    ...extra,
  };
}

const text = (v: RemoteValue): string => Buffer.from(v.value).toString('utf8');
const isAbort = (e: unknown) => !(e instanceof ProviderError) && ((e as Error).name === 'AbortError' || (e as Error).name === 'TimeoutError');

/** Runs `read` with a signal aborted after `afterMs`; returns how long it took to reject. */
async function abortedAfter(afterMs: number, read: (signal: AbortSignal) => Promise<unknown>): Promise<number> {
  const ctl = new AbortController();
  const t0 = performance.now();
  setTimeout(() => ctl.abort(), afterMs);
  let value: unknown;
  await assert.rejects(
    (async () => {
      value = await read(ctl.signal);
    })(),
    (e: unknown) => isAbort(e) && e === ctl.signal.reason,
  );
  assert.equal(value, undefined, 'no value');
  return performance.now() - t0;
}

before(async () => {
  env = { ...(await ensurePeers(['moto', 'bao'])) };
});

after(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  for (const r of relays) r.close();
});

describe('an aborted read returns at once, with the abort and no value', () => {
  test('Vault (OpenBao): getValue and validate through a slow connection', async () => {
    const key = `${run}/db`;
    const put = await fetch(`${env.VAULT_ADDR}/v1/secret/data/${key}`, {
      method: 'POST',
      headers: { 'x-vault-token': env.VAULT_TOKEN, 'content-type': 'application/json' },
      body: JSON.stringify({ data: { password: 'p4ss' } }),
    });
    assert.ok(put.ok);
    const server = await slowRelay(env.VAULT_ADDR, HOLD_MS);
    const calls: string[] = [];
    const c = await newVaultClient(
      { server, path: 'secret', version: 'v2', auth: { tokenSecretRef: { name: 'vault', key: 'token' } } },
      context(calls, { readSecretKey: async () => env.VAULT_TOKEN }),
      { logins: new LoginCache() },
    );
    clients.push(c);
    const took = await abortedAfter(200, (signal) => c.getValue({ key }, signal));
    assert.ok(took < 1_000, `rejected after ${Math.round(took)} ms, not after the ${HOLD_MS} ms the answer takes`);
    assert.ok(!calls.includes('ReadSecretData:success'), calls.join(','));
    const tookValidate = await abortedAfter(200, (signal) => c.validate(signal));
    assert.ok(tookValidate < 1_000, `validate rejected after ${Math.round(tookValidate)} ms`);
    // The same read without an abort gets the value (after the hold): the path itself works.
    assert.equal(text(await c.getValue({ key })), '{"password":"p4ss"}');
  });

  test('AWS Secrets Manager (moto): getValue, a batch and find through a slow connection', async () => {
    const names = [`${run}/a`, `${run}/b`];
    const sm = new SecretsManagerClient({ region: env.AWS_REGION, endpoint: env.AWS_ENDPOINT_URL, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    for (const n of names) await sm.send(new CreateSecretCommand({ Name: n, SecretString: `value-of-${n}` }));
    sm.destroy();
    const endpoint = await slowRelay(env.AWS_ENDPOINT_URL, HOLD_MS);
    const calls: string[] = [];
    const c = await awsProvider.newClient({ service: 'SecretsManager', region: env.AWS_REGION } as AWSProvider, context(calls, { env: { ...env, AWS_ENDPOINT_URL: endpoint } }));
    clients.push(c);
    for (const read of [
      (signal: AbortSignal) => c.getValue({ key: names[0]! }, signal),
      (signal: AbortSignal) => c.getValues!(names.map((key) => ({ key })), signal),
      (signal: AbortSignal) => c.findValues({ path: `${run}/` }, signal),
    ]) {
      const took = await abortedAfter(300, read);
      assert.ok(took < 1_500, `rejected after ${Math.round(took)} ms, not after the ${HOLD_MS} ms the answer takes`);
    }
    assert.ok(!calls.some((c) => c.endsWith(':success')), calls.join(','));
    assert.equal(text(await c.getValue({ key: names[0]! })), `value-of-${names[0]}`);
  });

  test('through the coalescing reader: one caller leaving does not cancel the read another waits for', async () => {
    const key = `${run}/shared`;
    await fetch(`${env.VAULT_ADDR}/v1/secret/data/${key}`, {
      method: 'POST',
      headers: { 'x-vault-token': env.VAULT_TOKEN, 'content-type': 'application/json' },
      body: JSON.stringify({ data: { v: 'shared' } }),
    });
    const server = await slowRelay(env.VAULT_ADDR, 1_000);
    const calls: string[] = [];
    const c = await newVaultClient(
      { server, path: 'secret', version: 'v2', auth: { tokenSecretRef: { name: 'vault', key: 'token' } } },
      context(calls, { readSecretKey: async () => env.VAULT_TOKEN }),
      { logins: new LoginCache() },
    );
    clients.push(c);
    const reader = new CoalescingReader({ freshBatchWindowMs: 1 });
    const store = { id: `vault-${run}`, provider: 'vault', client: c };
    const leaving = new AbortController();
    const first = reader.read(store, { key }, 0, leaving.signal);
    const second = reader.read(store, { key }, 0, AbortSignal.timeout(10_000));
    setTimeout(() => leaving.abort(), 100);
    await assert.rejects(first, isAbort);
    assert.equal(text(await second), '{"v":"shared"}');
    assert.deepEqual(calls, ['ReadSecretData:success'], 'one call, not aborted, not repeated');
  });
});
