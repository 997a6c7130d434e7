// --memory-limit: the quantities it reads, the Deployment's limit it defaults to, and where the
// process's memory cgroup is. (Running a controller under the limit is in bench-smoke.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { deploymentMemoryLimit, memoryLimitOption, ownMemoryCgroup, parseMemoryQuantity } from '../../../bench/lib/memlimit.ts';

const repo = path.resolve(import.meta.dirname, '../../..');
const deployment = path.join(repo, 'deploy/default/deployment.yaml');

test('parseMemoryQuantity reads binary and decimal suffixes and refuses the rest', () => {
  assert.equal(parseMemoryQuantity('512Mi'), 512 * 2 ** 20);
  assert.equal(parseMemoryQuantity('1Gi'), 2 ** 30);
  assert.equal(parseMemoryQuantity('500M'), 476 * 2 ** 20); // whole MiB
  assert.equal(parseMemoryQuantity('100000000'), 95 * 2 ** 20);
  for (const bad of ['', 'none', '512mi', '1.5Gi', '-1Gi', '512 Mi']) assert.throws(() => parseMemoryQuantity(bad), /^RangeError: --memory-limit: expected a quantity such as 64Mi or 1Gi, got .* \(or "none", or "deployment"\)$/, bad);
  assert.throws(() => parseMemoryQuantity('32Mi'), /below 64Mi/);
  assert.throws(() => parseMemoryQuantity('8Mi'), /^RangeError: --memory-limit: must be at least 16Mi, got "8Mi"/);
});

test('deploymentMemoryLimit reads the controller container\'s limit, and says when there is none', () => {
  const d = (containers: unknown[]) => JSON.stringify({ spec: { template: { spec: { containers } } } });
  assert.equal(deploymentMemoryLimit(d([{ name: 'sidecar', resources: { limits: { memory: '64Mi' } } }, { name: 'tessera', resources: { limits: { memory: '1Gi' } } }])), '1Gi');
  assert.equal(deploymentMemoryLimit(d([{ name: 'manager', resources: { limits: { memory: '768Mi' } } }])), '768Mi');
  assert.throws(() => deploymentMemoryLimit(d([{ name: 'tessera', resources: { requests: { memory: '64Mi' } } }])), /sets no memory limit/);
});

test('--memory-limit deployment is the limit deploy/default ships, the one the chart and the OLM bundle ship too', () => {
  const shipped = memoryLimitOption('deployment', deployment)!;
  assert.equal(shipped.text, deploymentMemoryLimit(readFileSync(deployment, 'utf8')));
  assert.equal(shipped.bytes, parseMemoryQuantity(shipped.text));
  const chart = readFileSync(path.join(repo, 'deploy/charts/tessera/values.yaml'), 'utf8');
  assert.match(chart, new RegExp(`limits:\\n\\s+memory: ${shipped.text}\\n`));
  const csv = readFileSync(path.join(repo, 'deploy/olm/manifests/tessera.clusterserviceversion.yaml'), 'utf8');
  assert.match(csv, new RegExp(`limits:\\n\\s+memory: ${shipped.text}\\n`));
  assert.equal(memoryLimitOption('none', deployment), undefined);
  assert.deepEqual(memoryLimitOption('1Gi', deployment), { text: '1Gi', bytes: 2 ** 30 });
});

test('ownMemoryCgroup finds cgroup v1\'s memory hierarchy first, else the v2 one, relative to what is mounted', () => {
  const v1 = [
    '32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
    '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:7 - cgroup cgroup rw,memory',
    '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
  ].join('\n');
  assert.deepEqual(ownMemoryCgroup('5:devices:/\n4:memory:/pod/abc\n0::/\n', v1), { version: 1, dir: '/sys/fs/cgroup/memory/pod/abc' });
  // A container's own cgroup mounted as the hierarchy's root (v1 without a cgroup namespace).
  const container = '35 31 0:32 /docker/abc /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory';
  assert.deepEqual(ownMemoryCgroup('4:memory:/docker/abc\n', container), { version: 1, dir: '/sys/fs/cgroup/memory' });
  assert.deepEqual(ownMemoryCgroup('4:memory:/docker/abc/inner\n', container), { version: 1, dir: '/sys/fs/cgroup/memory/inner' });
  assert.deepEqual(ownMemoryCgroup('0::/user.slice/session-1.scope\n', '30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate'), { version: 2, dir: '/sys/fs/cgroup/user.slice/session-1.scope' });
  assert.throws(() => ownMemoryCgroup('1:cpu:/\n', '20 1 0:5 / /proc rw - proc proc rw'), /no memory cgroup found .*--memory-limit none/);
  // A cgroup outside the mounted subtree cannot be reached.
  assert.throws(() => ownMemoryCgroup('4:memory:/elsewhere\n', container), /no memory cgroup found/);
  // The hierarchy mounted twice: the mount whose subtree holds the cgroup, not the first one.
  const twice = `${container}\n36 31 0:32 / /mnt/memory rw - cgroup cgroup rw,memory`;
  assert.deepEqual(ownMemoryCgroup('4:memory:/elsewhere\n', twice), { version: 1, dir: '/mnt/memory/elsewhere' });
  // A sibling whose name starts with two dots is inside the subtree.
  assert.deepEqual(ownMemoryCgroup('4:memory:/docker/abc/..x\n', container), { version: 1, dir: '/sys/fs/cgroup/memory/..x' });
});

test('ownMemoryCgroup reads this process\'s own files', () => {
  const own = ownMemoryCgroup(readFileSync('/proc/self/cgroup', 'utf8'), readFileSync('/proc/self/mountinfo', 'utf8'));
  assert.ok(own.dir.startsWith('/') && (own.version === 1 || own.version === 2), JSON.stringify(own));
});
