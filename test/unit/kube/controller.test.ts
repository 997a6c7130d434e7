// The controller's decisions after a reconcile, with a fake reconciler: the per-reconcile deadline
// (aborted, counted, retried with backoff), terminal errors (not retried), slow retries asked for
// by the error, and stop() aborting an in-flight reconcile through the signal it was given.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { Controller, TerminalError, isTerminal, retryAfterOf, type Reconciler } from '../../../src/kube/controller.ts';
import { reconcileMetrics } from '../../../src/kube/metrics.ts';
import { ControllerError, ControllerErrorCode, SLOW_RETRY_MS, controllerErrors } from '../../../src/controllers/errors.ts';
import { ProviderError } from '../../../src/providers/provider.ts';

const silent = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `signal` aborts, then rejects with its reason: a reconciler that honours its signal. */
const untilAborted = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });

/** tessera_reconcile_deadline_exceeded_total for these labels. */
async function deadlinesExceeded(labels: Record<string, string>): Promise<number> {
  const m = await reconcileMetrics.deadlineExceeded.get();
  return m.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0;
}

function controller(name: string, reconcile: Reconciler, extra: Partial<ConstructorParameters<typeof Controller>[0]> = {}): Controller {
  return new Controller({ name, workers: 2, logger: silent, backoffBaseMs: 20, backoffMaxMs: 1000, reconcile, ...extra });
}

describe('Controller deadlines and cancellation', () => {
  it('a reconcile past its deadline is aborted through its signal, counted, and retried with backoff', async () => {
    const signals: AbortSignal[] = [];
    const startedAt: number[] = [];
    let abortedAtSuccess: boolean | undefined;
    const c = controller(
      'unit-deadline',
      async (_key, signal) => {
        signals.push(signal);
        startedAt.push(performance.now());
        if (signals.length < 3) return untilAborted(signal);
        abortedAtSuccess = signal.aborted;
        return {};
      },
      { reconcileTimeoutMs: 50 },
    );
    c.start();
    c.enqueue('slow');
    await sleep(400);
    await c.stop();
    assert.equal(signals.length, 3, 'aborted twice, then succeeded');
    assert.equal((signals[0]!.reason as Error).name, 'TimeoutError');
    assert.ok(signals[0]!.aborted && signals[1]!.aborted);
    assert.equal(abortedAtSuccess, false, 'each attempt gets a deadline of its own');
    // Backoff: 20 ms after the first deadline, 40 ms after the second (plus the 50 ms deadline each).
    const gap1 = startedAt[1]! - startedAt[0]!;
    const gap2 = startedAt[2]! - startedAt[1]!;
    assert.ok(gap1 >= 65, `first retry after ${gap1} ms`);
    assert.ok(gap2 >= 85 && gap2 > gap1, `second retry after ${gap2} ms (backoff grows)`);
    assert.equal(await deadlinesExceeded({ controller: 'unit-deadline' }), 2);
    assert.equal(c.queue.numRequeues('slow'), 0, 'backoff forgotten after the success');
  });

  it('a TerminalError, or a domain error that says terminal, is not retried', async () => {
    const calls = new Map<string, number>();
    const c = controller('unit-terminal', async (key) => {
      calls.set(key, (calls.get(key) ?? 0) + 1);
      if (key === 'terminal') throw new TerminalError('invalid spec');
      if (key === 'invalid-spec') throw controllerErrors.invalidSpec('spec.refreshInterval', 'too long');
      if (key === 'store-missing') throw controllerErrors.storeNotFound('SecretStore', 's', 'ns');
      if (key === 'retryable') throw controllerErrors.secretWriteFailed('t', 'conflict');
      return {};
    });
    c.start();
    for (const k of ['terminal', 'invalid-spec', 'store-missing', 'retryable']) c.enqueue(k);
    await sleep(300);
    await c.stop();
    assert.equal(calls.get('terminal'), 1);
    assert.equal(calls.get('invalid-spec'), 1, 'InvalidSpec waits for a spec change');
    assert.equal(calls.get('store-missing'), 1, 'StoreNotFound waits for the store (its creation re-enqueues)');
    assert.ok(calls.get('retryable')! >= 3, `a retryable ControllerError is retried (${calls.get('retryable')} runs)`);
  });

  it('an error asking for a slow retry is retried no sooner than it asks', async () => {
    const runs: number[] = [];
    const c = controller('unit-slow-retry', async () => {
      runs.push(performance.now());
      throw Object.assign(new Error('credentials refused'), { retryAfterMs: 150 });
    });
    c.start();
    c.enqueue('k');
    await sleep(400);
    await c.stop();
    assert.ok(runs.length >= 2 && runs.length <= 3, `${runs.length} runs in 400 ms`);
    assert.ok(runs[1]! - runs[0]! >= 140, `retried after ${runs[1]! - runs[0]!} ms`);
  });

  it('an error asking to be retried within a time is retried by then, however long its backoff has grown', async () => {
    const runs: number[] = [];
    // Backoff from 1 s: without the cap the second run would come a second later.
    const c = controller('unit-retry-within', async () => {
      runs.push(performance.now());
      throw Object.assign(new Error('store not ready'), { retryWithinMs: 60 });
    }, { backoffBaseMs: 1000, backoffMaxMs: 60_000 });
    c.start();
    c.enqueue('k');
    await sleep(400);
    await c.stop();
    assert.ok(runs.length >= 3, `${runs.length} runs in 400 ms`);
    for (let i = 1; i < runs.length; i++) assert.ok(runs[i]! - runs[i - 1]! < 250, `retry ${i} after ${Math.round(runs[i]! - runs[i - 1]!)} ms`);
  });

  it('stop() waits for in-progress reconciles up to its grace, then aborts them through their signal', async () => {
    let seen: AbortSignal | undefined;
    let started = false;
    const c = controller('unit-stop', async (_key, signal) => {
      seen = signal;
      started = true;
      return untilAborted(signal);
    });
    c.start();
    c.enqueue('stuck');
    while (!started) await sleep(1);
    const t0 = performance.now();
    await c.stop(100);
    const took = performance.now() - t0;
    assert.ok(seen?.aborted, 'the reconcile saw its signal abort');
    assert.equal((seen!.reason as Error).name, 'AbortError');
    assert.ok(took >= 90 && took < 1000, `stopped after ${took} ms`);
    // Stopped: new keys are not taken.
    c.enqueue('later');
    await sleep(20);
    assert.equal(c.queue.len(), 0);
  });

  it('stop() lets a reconcile finish within the grace without aborting it', async () => {
    let seen: AbortSignal | undefined;
    let finished = false;
    const c = controller('unit-drain', async (_key, signal) => {
      seen = signal;
      await sleep(50);
      finished = true;
      return {};
    });
    c.start();
    c.enqueue('k');
    while (!seen) await sleep(1);
    await c.stop(1000);
    assert.ok(finished);
    assert.equal(seen.aborted, false);
  });
});

describe('retry hints of the error catalog', () => {
  it('ControllerError.retry decides terminal; a non-retryable provider error asks for slow retries', () => {
    assert.equal(isTerminal(controllerErrors.invalidSpec('f', 'd')), true);
    assert.equal(isTerminal(controllerErrors.secretWriteFailed('n', 'd')), false);
    assert.equal(isTerminal(new TerminalError('x')), true);
    assert.equal(isTerminal(new Error('x', { cause: new TerminalError('inner') })), true, 'found in the cause chain');
    const denied = controllerErrors.fromProvider('SecretStore "s"', new ProviderError('AccessDenied', 'denied'));
    assert.equal(isTerminal(denied), false, 'credentials can be fixed without an event: retried');
    assert.equal(retryAfterOf(denied), SLOW_RETRY_MS);
    const throttled = controllerErrors.fromProvider('SecretStore "s"', new ProviderError('Throttled', 'slow down'));
    assert.equal(retryAfterOf(throttled), 0, 'retryable provider errors use the normal backoff');
    assert.equal(retryAfterOf(new ControllerError(ControllerErrorCode.InvalidSpec, 'x', false, { retryAfterMs: 5 })), 0, 'terminal errors ask for no retry at all');
  });

  it('a cancelled provider read is reported as cancelled, retried, and names no value', () => {
    const e = controllerErrors.fromProvider('SecretStore "s"', new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    assert.equal(e.code, ControllerErrorCode.ProviderUnavailable);
    assert.match(e.message, /the read was cancelled \(TimeoutError\)/);
    assert.equal(isTerminal(e), false);
  });
});

describe('Controller stop with a reconciler that ignores its signal', () => {
  it('stop() returns after the abort grace instead of hanging', async () => {
    let seen: AbortSignal | undefined;
    const c = controller(
      'unit-ignores-abort',
      async (_key, signal) => {
        seen = signal;
        await sleep(2_000); // ignores the signal
        return {};
      },
      { abortGraceMs: 100 },
    );
    c.start();
    c.enqueue('k');
    while (!seen) await sleep(1);
    const t0 = performance.now();
    await c.stop(50);
    const took = performance.now() - t0;
    assert.ok(seen.aborted);
    assert.ok(took >= 140 && took < 1_000, `stop() returned after ${Math.round(took)} ms`);
  });
});
