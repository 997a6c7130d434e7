// The login cache with a fake clock and a fake transport: login once, share concurrent refreshes,
// renew at two thirds of the lease, log in again when renewal is capped, fails or is too late.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoginCache } from '../../../../src/providers/vault/tokens.ts';
import type { LoginAuth } from '../../../../src/providers/vault/auth.ts';
import type { VaultTransport } from '../../../../src/providers/vault/http.ts';
import { ProviderError } from '../../../../src/providers/provider.ts';

function setup(opts: { lease?: number; renewLease?: number; renewStatus?: number; renewable?: boolean } = {}) {
  let now = 0;
  const calls: string[] = [];
  let n = 0;
  const transport = {
    send: async (site: { operation: string }) => {
      calls.push(site.operation);
      await new Promise((r) => setTimeout(r, 1));
      if (opts.renewStatus && opts.renewStatus !== 200) return { status: opts.renewStatus, body: {}, errors: ['permission denied'] };
      return { status: 200, body: { auth: { client_token: 'renewed', lease_duration: opts.renewLease ?? 3600, renewable: true } }, errors: [] };
    },
  } as unknown as VaultTransport;
  const plan: LoginAuth = {
    kind: 'login',
    method: 'appRole',
    mountPath: 'approle',
    cacheKey: 'k',
    namespace: '',
    login: async () => {
      calls.push('Login');
      await new Promise((r) => setTimeout(r, 1));
      return { token: `t${++n}`, leaseSeconds: opts.lease ?? 3600, renewable: opts.renewable ?? true };
    },
  };
  const cache = new LoginCache(() => now);
  return { cache, plan, transport, calls, advance: (ms: number) => (now += ms) };
}

test('concurrent callers share one login; the token is reused while fresh', async () => {
  const { cache, plan, transport, calls, advance } = setup();
  const tokens = await Promise.all(Array.from({ length: 20 }, () => cache.token(plan, transport)));
  assert.ok(tokens.every((t) => t === 't1'));
  advance(30 * 60_000);
  assert.equal(await cache.token(plan, transport), 't1');
  assert.deepEqual(calls, ['Login']);
});

test('past two thirds of the lease the token is renewed once, keeping the token', async () => {
  const { cache, plan, transport, calls, advance } = setup();
  await cache.token(plan, transport);
  advance(41 * 60_000);
  const [a, b] = await Promise.all([cache.token(plan, transport), cache.token(plan, transport)]);
  assert.equal(a, 't1');
  assert.equal(b, 't1');
  assert.deepEqual(calls, ['Login', 'RenewSelf']);
  advance(30 * 60_000);
  assert.equal(await cache.token(plan, transport), 't1');
  assert.deepEqual(calls, ['Login', 'RenewSelf']);
});

test('a renewal capped by max TTL, a failed renewal, a non-renewable or expired token: new login', async () => {
  for (const [opts, expected] of [
    [{ renewLease: 60 }, ['Login', 'RenewSelf', 'Login']],
    [{ renewStatus: 403 }, ['Login', 'RenewSelf', 'Login']],
    [{ renewable: false }, ['Login', 'Login']],
  ] as const) {
    const { cache, plan, transport, calls, advance } = setup(opts);
    await cache.token(plan, transport);
    advance(41 * 60_000);
    assert.equal(await cache.token(plan, transport), 't2', JSON.stringify(opts));
    assert.deepEqual(calls, expected, JSON.stringify(opts));
  }
  const { cache, plan, transport, calls, advance } = setup();
  await cache.token(plan, transport);
  advance(3600_000);
  assert.equal(await cache.token(plan, transport), 't2');
  assert.deepEqual(calls, ['Login', 'Login']);
});

test('failed logins are not cached; invalidate forgets a refused token', async () => {
  const { cache, plan, transport } = setup();
  let fail = true;
  const login = plan.login;
  plan.login = async (t) => {
    if (fail) throw new ProviderError('BadCredentials', 'nope');
    return login(t);
  };
  await assert.rejects(cache.token(plan, transport));
  fail = false;
  assert.equal(await cache.token(plan, transport), 't1');
  cache.invalidate('k', 't1');
  assert.equal(await cache.token(plan, transport), 't2');
  cache.invalidate('k', 'other');
  assert.equal(await cache.token(plan, transport), 't2');
});

test('a zero lease (root-like token) never expires', async () => {
  const { cache, plan, transport, calls, advance } = setup({ lease: 0 });
  await cache.token(plan, transport);
  advance(365 * 24 * 3600_000);
  await cache.token(plan, transport);
  assert.deepEqual(calls, ['Login']);
});
