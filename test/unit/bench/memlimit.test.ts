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

test('ownMemoryCgroup finds cgroup v1\'s memory hierarchy first, else the v2 one', () => {
  const v1Mounts = 'cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0\ncgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0\ncgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n';
  assert.deepEqual(ownMemoryCgroup('5:devices:/\n4:memory:/pod/abc\n0::/\n', v1Mounts), { version: 1, dir: '/sys/fs/cgroup/memory/pod/abc' });
  assert.deepEqual(ownMemoryCgroup('0::/user.slice/session-1.scope\n', 'cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid 0 0\n'), { version: 2, dir: '/sys/fs/cgroup/user.slice/session-1.scope' });
  assert.throws(() => ownMemoryCgroup('1:cpu:/\n', 'proc /proc proc rw 0 0\n'), /no memory cgroup found .*--memory-limit none/);
});
