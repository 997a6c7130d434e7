// The bench's CPU accounting: the machine's line of /proc/stat, and where CPU went between two
// readings (named processes, the rest of the machine, idle and stolen time).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuBetween, cpuSnapshot, parseMachineCpu, type CpuSnapshot } from '../../../bench/lib/proc.ts';

test('parseMachineCpu reads busy, idle and stolen seconds from the first line of /proc/stat', () => {
  // user nice system idle iowait irq softirq steal guest guest_nice (ticks of 1/100 s)
  const text = 'cpu  1000 20 300 5000 40 5 15 7 0 0\ncpu0 500 10 150 2500 20 2 7 3 0 0\nintr 1 2 3\n';
  assert.deepEqual(parseMachineCpu(text), { cores: 1, busy: 13.4, idle: 50.4, steal: 0.07 });
  assert.equal(parseMachineCpu(text.replace('intr', 'cpu1 1 1 1 1 1 1 1 1 0 0\nintr')).cores, 2);
  assert.throws(() => parseMachineCpu('intr 1 2 3\n'), /unexpected \/proc\/stat line/);
});

test('cpuBetween splits the machine into named processes, other, idle and steal', () => {
  // 7.25 s on 2 cores: 14.5 CPU-seconds, all of them accounted for.
  const from: CpuSnapshot = { at: 1_000, byProcess: { apiserver: 10, etcd: 2, bench: 1 }, machine: { cores: 2, busy: 100, idle: 50, steal: 1 } };
  const to: CpuSnapshot = { at: 8_250, byProcess: { apiserver: 16.5, etcd: 3.25, bench: 1.5, controller: 2 }, machine: { cores: 2, busy: 111, idle: 53, steal: 1.5 } };
  // The controller started in between and counts from zero; what the named ones did not use is "other".
  assert.deepEqual(cpuBetween(from, to), { apiserver: 6.5, etcd: 1.25, bench: 0.5, controller: 2, other: 0.75, idle: 3, steal: 0.5, lost: 0 });
});

test('a process gone by the second reading is left out, its time counted as other', () => {
  const from: CpuSnapshot = { at: 0, byProcess: { apiserver: 1, moto: 5 }, machine: { cores: 1, busy: 10, idle: 0, steal: 0 } };
  const to: CpuSnapshot = { at: 5_000, byProcess: { apiserver: 2, moto: undefined }, machine: { cores: 1, busy: 14, idle: 1, steal: 0 } };
  assert.deepEqual(cpuBetween(from, to), { apiserver: 1, other: 3, idle: 1, steal: 0, lost: 0 });
});

test('time that /proc/stat does not account for is reported as lost (the machine did not run)', () => {
  // 20 s on 2 cores is 40 CPU-seconds; the counters moved by 30: 10 were never run.
  const from: CpuSnapshot = { at: 0, byProcess: { apiserver: 0 }, machine: { cores: 2, busy: 0, idle: 0, steal: 0 } };
  const to: CpuSnapshot = { at: 20_000, byProcess: { apiserver: 20 }, machine: { cores: 2, busy: 25, idle: 4, steal: 1 } };
  assert.deepEqual(cpuBetween(from, to), { apiserver: 20, other: 5, idle: 4, steal: 1, lost: 10 });
  // Within the counters' granularity (1 % of the cores' time, at least 0.05 s per core) it is nothing.
  assert.equal(cpuBetween(from, { ...to, machine: { ...to.machine, idle: 13.95 } }).lost, 0);
  const long: CpuSnapshot = { ...to, at: 200_000, machine: { cores: 2, busy: 250, idle: 147, steal: 0 } };
  assert.equal(cpuBetween(from, long).lost, 0, '3 of 400 CPU-seconds');
  assert.equal(cpuBetween(from, { ...long, machine: { ...long.machine, idle: 140 } }).lost, 10);
});

test('cpuSnapshot reads this process and the machine; an unknown pid reads as undefined', () => {
  const before = cpuSnapshot({ self: process.pid, none: undefined });
  const until = performance.now() + 50;
  while (performance.now() < until); // some CPU of our own to see
  const after = cpuSnapshot({ self: process.pid, none: undefined });
  assert.equal(after.byProcess.none, undefined);
  assert.ok((after.byProcess.self ?? 0) > (before.byProcess.self ?? Infinity), JSON.stringify([before, after]));
  assert.ok(after.machine.busy > before.machine.busy);
  const d = cpuBetween(before, after);
  assert.ok(d.self! > 0 && d.other! >= 0 && d.idle! >= 0, JSON.stringify(d));
});
