// Informer failures an operator must act on: the diagnosis (category, summary, what to fix), the
// log rate limit, the /readyz text, and the manager's wiring of all three around a real Informer
// whose list and watch are answered by an in-memory stand-in of the client.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { ApiError, type KubeClient } from '../../../src/kube/client.ts';
import { causeChain, diagnoseApiFailure, FailureLogLimiter, forbiddenUser, printableServer } from '../../../src/kube/diagnose.ts';
import { Informer } from '../../../src/kube/informer.ts';
import { informerNotReadyReason, Manager, type InformerHealth } from '../../../src/kube/manager.ts';
import type { KubeObject, ResourceType } from '../../../src/kube/types.ts';
import { createLogger } from '../../../src/log.ts';

const externalSecrets: ResourceType = { group: 'external-secrets.io', version: 'v1', plural: 'externalsecrets', kind: 'ExternalSecret', namespaced: true };
const ctx = { resource: 'externalsecrets.external-secrets.io', scope: 'all namespaces', verb: 'list' as const, server: 'https://127.0.0.1:6443' };

function forbidden(): ApiError {
  return new ApiError(403, {
    kind: 'Status', apiVersion: 'v1', reason: 'Forbidden', code: 403,
    message: 'externalsecrets.external-secrets.io is forbidden: User "system:serviceaccount:tessera-system:tessera" cannot list resource "externalsecrets" in API group "external-secrets.io" at the cluster scope',
  }, 'GET', '/apis/external-secrets.io/v1/externalsecrets');
}

function connectionRefused(): Error {
  const inner = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED', address: '127.0.0.1', port: 6443 });
  return new AggregateError([inner], 'request failed');
}

describe('diagnoseApiFailure', () => {
  it('403: error level, names the user the apiserver saw and the grant to add', () => {
    const d = diagnoseApiFailure(forbidden(), ctx);
    assert.equal(d.category, 'forbidden');
    assert.equal(d.level, 'error');
    assert.equal(d.summary, '403 Forbidden');
    assert.equal(d.user, 'system:serviceaccount:tessera-system:tessera');
    assert.match(d.fix!, /^grant list on externalsecrets\.external-secrets\.io \(all namespaces\) to system:serviceaccount:tessera-system:tessera \(see deploy\/ RBAC/);
  });

  it('403 without a user in the message still says what to grant', () => {
    const d = diagnoseApiFailure(new ApiError(403, undefined, 'GET', '/x'), { ...ctx, verb: 'watch' });
    assert.equal(d.user, undefined);
    assert.match(d.fix!, /grant watch on externalsecrets\.external-secrets\.io/);
  });

  it('401: credentials invalid or expired, and no token in anything it returns', () => {
    const d = diagnoseApiFailure(new ApiError(401, { kind: 'Status', apiVersion: 'v1', reason: 'Unauthorized', message: 'Unauthorized' }, 'GET', '/x'), ctx);
    assert.equal(d.category, 'unauthorized');
    assert.equal(d.level, 'error');
    assert.equal(d.summary, '401 Unauthorized');
    assert.match(d.fix!, /invalid or expired/);
  });

  it('connection refused inside an AggregateError: the server URL and the cause chain', () => {
    const d = diagnoseApiFailure(connectionRefused(), ctx);
    assert.equal(d.category, 'unreachable');
    assert.equal(d.level, 'error');
    assert.equal(d.summary, 'cannot connect to https://127.0.0.1:6443 (ECONNREFUSED)');
    assert.deepEqual(d.causes, ['request failed', 'connect ECONNREFUSED 127.0.0.1:6443']);
  });

  it('DNS and TLS failures are told apart', () => {
    const dns = diagnoseApiFailure(Object.assign(new Error('getaddrinfo ENOTFOUND api.example'), { code: 'ENOTFOUND' }), { ...ctx, server: 'https://api.example:6443' });
    assert.equal(dns.category, 'dns');
    assert.match(dns.summary, /cannot resolve https:\/\/api\.example:6443/);
    const tls = diagnoseApiFailure(new Error('fetch failed', { cause: Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }) }), ctx);
    assert.equal(tls.category, 'tls');
    assert.deepEqual(tls.causes, ['fetch failed', 'DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate']);
  });

  it('410 Gone is routine (debug); other statuses are warnings; 404 says to install the CRDs', () => {
    assert.equal(diagnoseApiFailure(new ApiError(410, undefined, 'WATCH', '/x'), ctx).level, 'debug');
    assert.equal(diagnoseApiFailure(new ApiError(500, undefined, 'GET', '/x'), ctx).level, 'warn');
    assert.match(diagnoseApiFailure(new ApiError(404, undefined, 'GET', '/x'), ctx).fix!, /deploy\/crds/);
  });

  it('never prints the user-info of a server URL', () => {
    assert.equal(printableServer('https://admin:s3cr3t@api.example:6443/?token=abc'), 'https://api.example:6443');
    const d = diagnoseApiFailure(connectionRefused(), { ...ctx, server: 'https://admin:s3cr3t@api.example:6443' });
    assert.doesNotMatch(JSON.stringify(d), /s3cr3t/);
  });

  it('causeChain stops at cycles and depth', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    assert.deepEqual(causeChain(b), ['b', 'a']);
    assert.equal(forbiddenUser('no user here'), undefined);
  });
});

describe('FailureLogLimiter', () => {
  it('logs the first failure, then at most once per interval per key, counting the rest', () => {
    let t = 0;
    const l = new FailureLogLimiter(60_000, () => t);
    assert.deepEqual(l.admit('a'), { log: true, suppressed: 0 });
    t = 1000;
    assert.equal(l.admit('a').log, false);
    t = 2000;
    assert.equal(l.admit('a').log, false);
    assert.deepEqual(l.admit('b'), { log: true, suppressed: 0 }, 'keys are independent');
    t = 60_000;
    assert.deepEqual(l.admit('a'), { log: true, suppressed: 2 }, 'the next line says how many it stands for');
    t = 60_001;
    assert.equal(l.admit('a').log, false);
  });

  it('a recovery resets the streak: the next failure is logged at once', () => {
    let t = 0;
    const l = new FailureLogLimiter(60_000, () => t);
    l.admit('a');
    assert.equal(l.reset('a'), true);
    assert.equal(l.reset('a'), false, 'nothing to reset');
    t = 10;
    assert.equal(l.admit('a').log, true);
  });
});

describe('informerNotReadyReason', () => {
  const base: InformerHealth = { healthy: false, synced: false, failure: undefined, lastError: undefined, resourceName: ctx.resource, scope: ctx.scope, server: ctx.server };
  const since = Date.parse('2026-11-30T12:01:03.456Z');

  it('healthy: ready', () => assert.equal(informerNotReadyReason({ ...base, healthy: true, synced: true }), undefined));
  it('not yet synced, nothing failed: "not synced"', () => assert.equal(informerNotReadyReason(base), 'not synced'));
  it('failing: the status, the verb and since when', () => {
    assert.equal(informerNotReadyReason({ ...base, failure: { error: forbidden(), op: 'list', since } }), '403 Forbidden on list since 2026-11-30T12:01:03Z, not synced');
    assert.equal(
      informerNotReadyReason({ ...base, synced: true, failure: { error: connectionRefused(), op: 'watch', since } }),
      'cannot connect to https://127.0.0.1:6443 (ECONNREFUSED) on watch since 2026-11-30T12:01:03Z',
    );
  });
});

/** A client whose list always fails with `err` (the informer's only call before a watch). */
function failingClient(err: () => Error): { client: KubeClient; calls: () => number } {
  let calls = 0;
  const client = {
    server: 'https://127.0.0.1:6443',
    list: async () => {
      calls++;
      throw err();
    },
    close: () => undefined,
  } as unknown as KubeClient;
  return { client, calls: () => calls };
}

function captureLogs(): { logger: ReturnType<typeof createLogger>; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: createLogger('debug', sink), lines };
}

const waitUntil = async (what: string, fn: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('Manager: a failing informer', () => {
  it('logs one error line per interval with the fix, and /readyz names the watch', async () => {
    const { client, calls } = failingClient(forbidden);
    const { logger, lines } = captureLogs();
    const manager = new Manager({ client, logger, healthAddr: '127.0.0.1:0', failureLogIntervalMs: 60_000 });
    const inf = new Informer<KubeObject>(client, externalSecrets, { backoffInitialMs: 2, backoffMaxMs: 5 });
    manager.addInformer(inf);
    void manager.start(); // waits for a sync that cannot happen; the health server is up first
    try {
      await waitUntil('several list attempts', () => calls() >= 5 && manager.bound.health !== undefined);
      const errors = lines.filter((l) => l.level === 'error');
      assert.equal(errors.length, 1, `one line for ${calls()} failures within the interval: ${JSON.stringify(errors)}`);
      const e = errors[0]!;
      assert.equal(e.resource, 'externalsecrets.external-secrets.io');
      assert.equal(e.verb, 'list');
      assert.equal(e.status, 403);
      assert.equal(e.user, 'system:serviceaccount:tessera-system:tessera');
      assert.match(String(e.fix), /grant list on externalsecrets\.external-secrets\.io/);
      assert.match(String(e.msg), /^cannot list externalsecrets\.external-secrets\.io \(all namespaces\): 403 Forbidden: grant list/);
      assert.ok(lines.some((l) => l.msg === 'serving health and metrics' && l.health === manager.bound.health));

      const res = await fetch(`http://${manager.bound.health}/readyz`);
      assert.equal(res.status, 503);
      assert.match(await res.text(), /^\[-\]informer externalsecrets\.external-secrets\.io \(all namespaces\): 403 Forbidden on list since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, not synced$/);
    } finally {
      await manager.stop();
    }
  });

  it('a recovery is logged once, and the next failure streak is logged at once again', async () => {
    let calls = 0;
    let failing = true;
    const client = {
      server: 'https://127.0.0.1:6443',
      list: async () => {
        calls++;
        if (failing) throw connectionRefused();
        return { metadata: { resourceVersion: '1' }, items: [] };
      },
      // A watch that stays open until the informer stops it.
      watch: async function* (_rt: unknown, _ns: unknown, o: { signal: AbortSignal; onOpen?: () => void }) {
        o.onOpen?.();
        await new Promise((r) => o.signal.addEventListener('abort', r, { once: true }));
        yield* [];
      },
      close: () => undefined,
    } as unknown as KubeClient;
    const { logger, lines } = captureLogs();
    const manager = new Manager({ client, logger });
    const inf = new Informer<KubeObject>(client, externalSecrets, { backoffInitialMs: 2, backoffMaxMs: 5 });
    manager.addInformer(inf);
    inf.start();
    try {
      await waitUntil('a few failures', () => calls >= 3);
      failing = false;
      await waitUntil('the informer to sync', () => inf.synced && inf.healthy);
      assert.equal(inf.failure, undefined, 'the streak is over');
      const recovered = lines.filter((l) => l.level === 'info' && /recovered$/.test(String(l.msg)));
      assert.equal(recovered.length, 1, JSON.stringify(recovered));
      assert.equal(lines.filter((l) => l.level === 'error').length, 1);
    } finally {
      await inf.stop();
    }
  });

  it('a connection failure is logged with the server URL and the cause chain', async () => {
    const { client, calls } = failingClient(connectionRefused);
    const { logger, lines } = captureLogs();
    const manager = new Manager({ client, logger });
    const inf = new Informer<KubeObject>(client, externalSecrets, { namespace: 'team-a', backoffInitialMs: 2, backoffMaxMs: 5 });
    manager.addInformer(inf);
    inf.start();
    try {
      await waitUntil('a few attempts', () => calls() >= 3);
      const errors = lines.filter((l) => l.level === 'error');
      assert.equal(errors.length, 1);
      assert.equal(errors[0]!.server, 'https://127.0.0.1:6443');
      assert.equal(errors[0]!.scope, 'namespace team-a');
      assert.equal(errors[0]!.error, 'request failed: connect ECONNREFUSED 127.0.0.1:6443');
    } finally {
      await inf.stop();
    }
  });
});
