// The tenant-safety flags of `tessera run`: documented defaults, and bad values refused before
// the controller starts (no cluster needed: the check comes first).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run, runFlags } from '../../../src/cli/run.ts';
import { UsageError } from '../../../src/cli/flags.ts';

test('defaults: 30s provider deadline, controller identity allowed (ESO behaviour)', () => {
  assert.equal(runFlags.find((f) => f.name === 'provider-timeout')?.default, '30s');
  assert.equal(runFlags.find((f) => f.name === 'namespaced-store-controller-identity')?.default, 'allow');
});

test('a value other than allow or deny is a usage error naming the flag', async () => {
  await assert.rejects(run(['--namespaced-store-controller-identity=maybe']), (e: unknown) => e instanceof UsageError && /--namespaced-store-controller-identity: expected allow or deny, got "maybe"/.test(e.message));
});

test('a zero provider timeout is a usage error', async () => {
  await assert.rejects(run(['--provider-timeout=0']), (e: unknown) => e instanceof UsageError && /--provider-timeout: must be greater than zero/.test(e.message));
});

test('duration flags take Go\'s duration syntax (".5s", "1.s", "1h30m" as pflag does), without a sign', async () => {
  const { parseFlags } = await import('../../../src/cli/flags.ts');
  const specs = [{ name: 'd', type: 'duration' as const, help: '' }];
  for (const ok of ['0', '30s', '.5s', '1.s', '1h30m', '2µs', '1.5h']) assert.equal(parseFlags(specs, [`--d=${ok}`]).values['d'], ok);
  for (const bad of ['-1s', '+1s', '1', '1d', '', '9999999999999h']) {
    assert.throws(() => parseFlags(specs, [`--d=${bad}`]), (e: unknown) => e instanceof UsageError && e.message.startsWith('--d: expected a duration'), bad);
  }
});
