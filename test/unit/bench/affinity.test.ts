// --split-cores: the CPU lists the bench reads and writes, and how it splits them between the
// control plane and its clients. (Pinning itself runs in bench-smoke.test.ts, on the real peers.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allowedCpus, parseCpuList, splitCores } from '../../../bench/lib/affinity.ts';

test('parseCpuList reads single CPUs, ranges and both mixed', () => {
  assert.deepEqual(parseCpuList('0'), [0]);
  assert.deepEqual(parseCpuList('0-1'), [0, 1]);
  assert.deepEqual(parseCpuList('0-2,5,7-8'), [0, 1, 2, 5, 7, 8]);
  for (const bad of ['', 'a', '1-', '0,,1', '0-1-2']) assert.throws(() => parseCpuList(bad), /not a CPU list/, bad);
});

test('splitCores gives the control plane the first allowed CPU and the clients all the others', () => {
  assert.deepEqual(splitCores([0, 1]), { controlPlane: '0', clients: '1' });
  assert.deepEqual(splitCores([2, 3, 5, 6]), { controlPlane: '2', clients: '3,5,6' });
  assert.throws(() => splitCores([0]), /needs two CPUs at least; this process may use 1 \(0\)/);
});

test('allowedCpus reads this process\'s CPU list from /proc', () => {
  const cpus = parseCpuList(allowedCpus(process.pid));
  assert.ok(cpus.length >= 1 && cpus.every((c) => Number.isInteger(c) && c >= 0), JSON.stringify(cpus));
});
