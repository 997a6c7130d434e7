// The heap flags `tessera run` gives itself (src/cli/heap.ts): sized from a cgroup memory limit,
// the young generation capped, and whatever the operator set left alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultOldSpaceMb, heapFlags, memoryEnv, HEAP_GROWING_PERCENT_WITHOUT_LIMIT, MAX_SEMI_SPACE_MB, memoryLimitBytes, type HeapContext } from '../../../src/cli/heap.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const machine = 24 * GiB;
const semi = `--max-semi-space-size=${MAX_SEMI_SPACE_MB}`;
const growing = `--heap-growing-percent=${HEAP_GROWING_PERCENT_WITHOUT_LIMIT}`;
const ctx = (o: Partial<HeapContext>): HeapContext => ({ constrainedMemory: 0, totalMemory: machine, execArgv: [], nodeOptions: undefined, ...o });

test('a cgroup limit is one below the machine\'s memory; 0 (no cgroup) and "max" (a huge number) are none', () => {
  assert.equal(memoryLimitBytes(512 * MiB, machine), 512 * MiB);
  assert.equal(memoryLimitBytes(0, machine), undefined);
  assert.equal(memoryLimitBytes(2 ** 64, machine), undefined, 'libuv answers UINT64_MAX for memory.max "max"');
  assert.equal(memoryLimitBytes(9223372036854771712, machine), undefined, 'cgroup v1 without a limit');
  assert.equal(memoryLimitBytes(machine, machine), undefined);
});

test('under a memory limit the old space is half of it, and the semi-space is capped', () => {
  assert.deepEqual(heapFlags(ctx({ constrainedMemory: 512 * MiB })), ['--max-old-space-size=256', semi]);
  assert.deepEqual(heapFlags(ctx({ constrainedMemory: 256 * MiB })), ['--max-old-space-size=128', semi], 'below the 256 MiB V8 would choose');
  assert.deepEqual(heapFlags(ctx({ constrainedMemory: 1.5 * GiB + 1 })), ['--max-old-space-size=768', semi]);
  assert.equal(defaultOldSpaceMb(1024), 512);
});

test('without a limit the old space has no cap, but grows only to 1.5 times what a full collection kept', () => {
  assert.equal(growing, '--heap-growing-percent=50');
  assert.deepEqual(heapFlags(ctx({})), [growing, semi]);
  assert.deepEqual(heapFlags(ctx({ nodeOptions: '--heap-growing-percent=50' })), [semi]);
  assert.deepEqual(heapFlags(ctx({ nodeOptions: '--max-old-space-size=300' })), [semi], 'an old space the operator sized keeps V8\'s factor');
});

test('a heap flag the operator gave wins, in NODE_OPTIONS or on node\'s command line, with dashes or underscores', () => {
  const limited = { constrainedMemory: 512 * MiB };
  assert.deepEqual(heapFlags(ctx({ ...limited, nodeOptions: '--max-old-space-size=300' })), [semi]);
  assert.deepEqual(heapFlags(ctx({ ...limited, nodeOptions: '--enable-source-maps  --max_old_space_size=300' })), [semi]);
  assert.deepEqual(heapFlags(ctx({ ...limited, execArgv: ['--max-old-space-size-percentage=40'] })), [semi]);
  assert.deepEqual(heapFlags(ctx({ ...limited, nodeOptions: '--max-semi-space-size=2' })), ['--max-old-space-size=256']);
  assert.deepEqual(heapFlags(ctx({ ...limited, execArgv: ['--max-heap-size=400'] })), [], '--max-heap-size decides both');
  // Other flags are no heap flags.
  assert.deepEqual(heapFlags(ctx({ ...limited, nodeOptions: '--import=./x.mjs', execArgv: ['--enable-source-maps'] })), ['--max-old-space-size=256', semi]);
});

test('the re-executed process, whose execArgv carries the flags, adds none: it re-executes at most once', () => {
  for (const limit of [0, 512 * MiB, 4 * GiB]) {
    const first = heapFlags(ctx({ constrainedMemory: limit }));
    assert.ok(first.length > 0);
    assert.deepEqual(heapFlags(ctx({ constrainedMemory: limit, execArgv: first })), []);
  }
});

test('glibc\'s malloc arenas are capped at 2 unless MALLOC_ARENA_MAX is set, also to its default', () => {
  assert.deepEqual(memoryEnv({}), { MALLOC_ARENA_MAX: '2' });
  assert.deepEqual(memoryEnv({ MALLOC_ARENA_MAX: '8' }), {});
  // The re-executed process finds it set and does not re-execute for it again.
  assert.deepEqual(memoryEnv({ ...memoryEnv({}) }), {});
});
