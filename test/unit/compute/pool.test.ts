// The compute pool: deadlines stop synchronous loops, a worker that runs out of memory or dies
// fails only its own task, lost workers are replaced, tasks run in parallel, and nothing escapes
// as an uncaught exception (the test process itself would fail if it did).
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { ComputePool, PoolBudgetError, WorkerTaskError, type ComputePoolOptions } from '../../../src/compute/pool.ts';

const workerUrl = new URL('./fixtures/worker.ts', import.meta.url);
const pools: ComputePool[] = [];
function pool(opts: Partial<ComputePoolOptions> = {}): { pool: ComputePool; lost: string[] } {
  const lost: string[] = [];
  const p = new ComputePool({ workers: 1, timeoutMs: 5000, memoryLimitMb: 32, workerUrl, onWorkerLost: (r) => lost.push(r), ...opts });
  pools.push(p);
  return { pool: p, lost };
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

type Echo = { value: unknown; threadId: number };
type Block = { start: number; end: number; threadId: number };

describe('ComputePool', () => {
  test('starts workers only for work and ends them when idle', async () => {
    const { pool: p } = pool({ workers: 2, idleRetireMs: 200 });
    assert.equal(p.workerCount, 0, 'no worker before the first task');
    await p.run({ op: 'echo', value: 1 });
    assert.equal(p.workerCount, 1, 'one task needs one worker');
    await Promise.all([p.run({ op: 'echo', value: 2 }), p.run({ op: 'echo', value: 3 }), p.run({ op: 'echo', value: 4 })]);
    assert.ok(p.workerCount <= 2, `never more than the pool's size (${p.workerCount})`);
    const t0 = Date.now();
    while (p.workerCount > 0 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 50));
    assert.equal(p.workerCount, 0, 'idle workers are ended');
    const r = (await p.run({ op: 'echo', value: 5 })) as Echo;
    assert.equal(r.value, 5, 'a new worker serves the next task');
  });

  test('answers a task', async () => {
    const { pool: p } = pool();
    const r = (await p.run({ op: 'echo', value: { a: [1, 'x'] } })) as Echo;
    assert.deepEqual(r.value, { a: [1, 'x'] });
  });

  test('a task past its deadline has its worker terminated (a for(;;) loop) and replaced', async () => {
    const { pool: p, lost } = pool({ timeoutMs: 300 });
    const before = (await p.run({ op: 'echo', value: 1 })) as Echo;
    const t0 = performance.now();
    await assert.rejects(p.run({ op: 'loop' }), (e: unknown) => {
      assert.ok(e instanceof PoolBudgetError);
      assert.equal(e.budget, 'time');
      assert.equal(e.message, 'time limit 300ms');
      return true;
    });
    assert.ok(performance.now() - t0 < 3000, 'the deadline fired');
    const after = (await p.run({ op: 'echo', value: 2 })) as Echo;
    assert.equal(after.value, 2);
    assert.notEqual(after.threadId, before.threadId, 'a new worker took the lost one\'s place');
    assert.deepEqual(lost, ['time']);
  });

  test('a worker out of memory fails only its own task; the other worker\'s task completes', async () => {
    const { pool: p, lost } = pool({ workers: 2, memoryLimitMb: 32, timeoutMs: 30_000 });
    await Promise.all([p.run({ op: 'echo', value: 0 }), p.run({ op: 'echo', value: 0 })]); // both started
    const [oom, other] = await Promise.allSettled([p.run({ op: 'oom' }), p.run({ op: 'block', ms: 300 })]);
    assert.equal(oom.status, 'rejected');
    assert.ok((oom as PromiseRejectedResult).reason instanceof PoolBudgetError);
    assert.equal(((oom as PromiseRejectedResult).reason as PoolBudgetError).budget, 'memory');
    assert.equal(((oom as PromiseRejectedResult).reason as Error).message, 'memory limit 32Mi');
    assert.equal(other.status, 'fulfilled');
    assert.deepEqual(lost, ['memory']);
    assert.equal(((await p.run({ op: 'echo', value: 'still here' })) as Echo).value, 'still here');
  });

  test('runs tasks on several workers at once', async () => {
    const { pool: p } = pool({ workers: 2 });
    await Promise.all([p.run({ op: 'echo', value: 0 }), p.run({ op: 'echo', value: 0 })]);
    const [a, b] = (await Promise.all([p.run({ op: 'block', ms: 400 }), p.run({ op: 'block', ms: 400 })])) as Block[];
    assert.notEqual(a!.threadId, b!.threadId);
    assert.ok(b!.start < a!.end && a!.start < b!.end, 'the two tasks overlapped in time');
  });

  test('an error in a task keeps only its name (its message may quote tenant data)', async () => {
    const { pool: p, lost } = pool();
    await assert.rejects(p.run({ op: 'throw' }), (e: unknown) => {
      assert.ok(e instanceof WorkerTaskError);
      assert.equal(e.message, 'compute task failed: TypeError');
      return true;
    });
    assert.deepEqual(lost, [], 'a thrown error does not cost the worker');
  });

  test('a worker that exits fails its task and is replaced', async () => {
    const { pool: p, lost } = pool();
    await assert.rejects(p.run({ op: 'exit' }), (e: unknown) => e instanceof WorkerTaskError && /exited with code 3/.test(e.message));
    assert.equal(((await p.run({ op: 'echo', value: 'x' })) as Echo).value, 'x');
    assert.deepEqual(lost, ['crash']);
  });

  test('an aborted task: a queued one leaves the queue, a running one has its worker stopped', async () => {
    const { pool: p, lost } = pool({ timeoutMs: 60_000 });
    const running = new AbortController();
    const queued = new AbortController();
    const r1 = p.run({ op: 'loop' }, { signal: running.signal });
    const r2 = p.run({ op: 'echo', value: 1 }, { signal: queued.signal });
    const r3 = p.run({ op: 'echo', value: 3 });
    queued.abort(new Error('queued aborted'));
    await assert.rejects(r2, /queued aborted/);
    await new Promise((r) => setTimeout(r, 200));
    running.abort(new Error('running aborted'));
    await assert.rejects(r1, /running aborted/);
    assert.equal(((await r3) as Echo).value, 3);
    assert.deepEqual(lost, [], 'an abort is not a budget overrun');
  });

  test('queued work is served round-robin by key', async () => {
    const { pool: p } = pool();
    await p.run({ op: 'echo', value: 0 });
    const order: string[] = [];
    const go = (key: string, i: number) => p.run({ op: 'echo', value: `${key}${i}` }, { key }).then((r) => { order.push((r as Echo).value as string); });
    const blocker = p.run({ op: 'block', ms: 200 }, { key: 'a' });
    const all = [go('a', 1), go('a', 2), go('a', 3), go('b', 1)];
    await blocker;
    await Promise.all(all);
    assert.deepEqual(order, ['a1', 'b1', 'a2', 'a3']);
  });

  test('close rejects waiting tasks and stops the workers', async () => {
    const { pool: p } = pool({ timeoutMs: 60_000 });
    const running = assert.rejects(p.run({ op: 'loop' }), /closed/);
    const waiting = assert.rejects(p.run({ op: 'echo', value: 1 }), /closed/);
    await new Promise((r) => setTimeout(r, 100));
    await p.close();
    await running;
    await waiting;
    await assert.rejects(p.run({ op: 'echo', value: 1 }), /closed/);
  });
});

describe('ComputePool under NODE_OPTIONS heap flags', () => {
  test('a process-wide --max-old-space-size does not override the workers\' memory limit', async () => {
    // The README recommends NODE_OPTIONS="--max-old-space-size=150 --max-semi-space-size=4" for the
    // controller; V8 applies those flags to every isolate unless the pool clears them first.
    const { execFile } = await import('node:child_process');
    const script = `
      import { ComputePool } from ${JSON.stringify(new URL('../../../src/compute/pool.ts', import.meta.url).href)};
      const p = new ComputePool({ workers: 1, timeoutMs: 5000, memoryLimitMb: 32, workerUrl: new URL(${JSON.stringify(workerUrl.href)}) });
      await p.run({ op: 'echo', value: 1 });
      console.log(JSON.stringify({ worker: p.workerHeapLimitMb, main: Math.round((await import('node:v8')).getHeapStatistics().heap_size_limit / 2 ** 20) }));
      await p.close();`;
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, NODE_OPTIONS: '--max-old-space-size=150 --max-semi-space-size=4' } }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
    });
    const { worker, main } = JSON.parse(out) as { worker: number; main: number };
    assert.ok(main >= 150, `the controller keeps its own heap (${main} MiB)`);
    assert.ok(worker <= 32 + 16, `the worker is held to about 32 MiB plus its young generation (${worker} MiB)`);
  });
});
