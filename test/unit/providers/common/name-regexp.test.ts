// find.name.regexp: one Go (RE2) matcher for every provider. The fake provider is driven here end
// to end; AWS, Vault and Kubernetes call the same filter (their find paths run against the real
// stores in test/integration/providers/*).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { nameRegexpFilter } from '../../../../src/providers/common/name-regexp.ts';
import { fakeProvider } from '../../../../src/providers/fake/index.ts';
import { ProviderError, type ProviderContext } from '../../../../src/providers/provider.ts';
import { cpuMillis } from '../../../fixtures/cpu-time.ts';

describe('nameRegexpFilter', () => {
  test('unanchored like Go MatchString, with RE2 syntax', () => {
    assert.ok(nameRegexpFilter('db')('prod/db/password'));
    assert.ok(nameRegexpFilter('(?i)^PROD/')('prod/x'));
    assert.ok(nameRegexpFilter('^(?P<env>prod|dev)/')('dev/x'));
    assert.ok(nameRegexpFilter('\\Aprod\\z')('prod'));
    assert.ok(!nameRegexpFilter('\\Aprod\\z')('prod\n'));
    assert.ok(nameRegexpFilter('^[[:alpha:]]+$')('abc'));
    assert.ok(!nameRegexpFilter('^[[:alpha:]]+$')('ab1'), 'a POSIX class, not a JS class of ":alph" characters');
  });

  test('an invalid pattern is an InvalidRequest naming the field, with Go\'s words', () => {
    assert.throws(() => nameRegexpFilter('(unclosed'), (err: unknown) => err instanceof ProviderError && err.kind === 'InvalidRequest'
      && err.message === 'find.name.regexp: error parsing regexp: missing closing ): `(unclosed`');
    assert.throws(() => nameRegexpFilter('(?<=a)b'), (err: unknown) => err instanceof ProviderError && /invalid named capture/.test(err.message),
      'lookbehind (JS syntax) is not RE2');
  });

  test('a catastrophic-backtracking pattern over a long name finishes', () => {
    const ms = cpuMillis(() => assert.equal(nameRegexpFilter('(a+)+$')(`${'a'.repeat(100_000)}!`), false));
    assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms of CPU`);
  });
});

test('the fake provider finds by [[:alpha:]]+ as Go does, and refuses JS-only syntax', async () => {
  const config = { data: [{ key: 'abc', value: '1' }, { key: '123', value: '2' }, { key: 'x-9', value: '3' }] };
  const c = await fakeProvider.newClient(config, {} as ProviderContext);
  assert.deepEqual([...(await c.findValues({ name: { regexp: '[[:alpha:]]+' } })).keys()], ['abc', 'x-9']);
  assert.deepEqual([...(await c.findValues({ name: { regexp: '^[[:alpha:]]+$' } })).keys()], ['abc']);
  await assert.rejects(c.findValues({ name: { regexp: '(?=a)' } }), (err: unknown) => err instanceof ProviderError && err.kind === 'InvalidRequest');
});
