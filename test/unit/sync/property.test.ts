import assert from 'node:assert/strict';
import { test } from 'node:test';
import { extractProperty } from '../../../src/sync/desired.ts';
import { SyncError } from '../../../src/sync/errors.ts';
import { formatFloatF } from '../../../src/sync/json-raw.ts';
import { wildMatch } from '../../../src/sync/gjson.ts';
import { cpuMillis } from '../../fixtures/cpu-time.ts';

const doc = JSON.stringify({
  user: 'admin',
  'db.host': 'literal-dotted',
  db: { host: 'nested', port: 5432, ratio: 1.50, big: 1e21, ok: true, none: null },
  nested: { 'a.b': 'escaped' },
  friends: [{ name: 'ann', age: 30 }, { name: 'bob', age: 31 }, { nick: 'x' }],
  list: ['x', 'y'],
  raw: { b: 1, a: 2 },
});
const get = (property: string, text = doc) =>
  new TextDecoder().decode(extractProperty(new TextEncoder().encode(text), 'remote/key', property, 'spec.data[0].remoteRef.property'));

test('gjson paths as ESO uses them', () => {
  assert.equal(get('user'), 'admin');
  assert.equal(get('db.host'), 'literal-dotted', 'an exact top-level key wins over the path');
  assert.equal(get('db.port'), '5432');
  assert.equal(get('db.ratio'), '1.5', 'non-integers are re-formatted like gjson');
  assert.equal(get('db.big'), '1000000000000000000000');
  assert.equal(get('db.ok'), 'true');
  assert.equal(get('db.none'), '', 'null reads as empty');
  assert.equal(get('nested.a\\.b'), 'escaped');
  assert.equal(get('friends.1.name'), 'bob');
  assert.equal(get('friends.#'), '3');
  assert.equal(get('friends.#.name'), '["ann","bob"]');
  assert.equal(get('list'), '["x","y"]');
  assert.equal(get('raw'), '{"b":1,"a":2}', 'objects keep their raw text and key order');
  assert.equal(get('fr*.0.name'), 'ann');
  assert.equal(get('us?r'), 'admin');
});

test('raw text is preserved exactly', () => {
  const text = '{"cfg": {\n  "b" : 1,\n  "a": [1, 2]\n}}';
  assert.equal(get('cfg', text), '{\n  "b" : 1,\n  "a": [1, 2]\n}');
  assert.equal(get('cfg.a', text), '[1, 2]');
});

test('errors name key and property, never the value', () => {
  assert.throws(() => get('missing'), (err: SyncError) =>
    err.code === 'PropertyNotFound' && err.message.includes('"missing"') && err.message.includes('"remote/key"') && !err.message.includes('admin'));
  assert.throws(() => get('p', 'hunter2-not-json'), (err: SyncError) =>
    err.code === 'PropertyOnNonJSON' && !err.message.includes('hunter2') && err.field === 'spec.data[0].remoteRef.property');
  assert.throws(() => get('friends.#(name=="ann").age'), (err: SyncError) => err.code === 'UnsupportedPropertySyntax');
  assert.throws(() => get('list|@reverse'), (err: SyncError) => err.code === 'UnsupportedPropertySyntax');
  assert.throws(() => get('friends.9.name'), (err: SyncError) => err.code === 'PropertyNotFound');
});

test('formatFloatF matches Go strconv.FormatFloat(f, f, -1, 64)', () => {
  assert.equal(formatFloatF(1.5), '1.5');
  assert.equal(formatFloatF(1e21), '1000000000000000000000');
  assert.equal(formatFloatF(1e-7), '0.0000001');
  assert.equal(formatFloatF(-2.25e-3), '-0.00225');
  assert.equal(formatFloatF(123456789.125), '123456789.125');
  assert.equal(formatFloatF(0), '0');
});

test('gjson wildcards: * any run, ? one code point, everything else literal', () => {
  const cases: Array<[string, string, boolean]> = [
    ['*', '', true], ['*', 'abc', true], ['?', '', false], ['?', '😀', true], ['??', '😀', false],
    ['a*c', 'abbbc', true], ['a*c', 'abbb', false], ['*a*b', 'xaxxb', true], ['*a*b', 'xbxa', false],
    ['a**b', 'ab', true], ['a?c', 'abc', true], ['a?c', 'ac', false], ['a.c', 'abc', false], ['[ab]', 'a', false], ['[ab]', '[ab]', true],
  ];
  for (const [pattern, key, want] of cases) assert.equal(wildMatch(pattern, key), want, `${pattern} ~ ${key}`);
});

test('a wildcard key pattern made to backtrack runs in linear time', () => {
  // A backtracking matcher (or the RegExp of [\s\S]* runs this replaced) takes time of the order
  // of key length to the power of the number of stars here.
  const key = 'a'.repeat(100_000);
  const ms = cpuMillis(() => {
    assert.equal(wildMatch('*a*a*a*a*a*a*a*a*b', key), false);
    assert.equal(wildMatch('*?*?*?*?*?*?*?*?*a', key), true);
  });
  assert.ok(ms < 1000, `took ${ms.toFixed(0)} ms of CPU`);
  assert.equal(get('*a*a*a*a*a*b', JSON.stringify({ [key]: 1, ['a'.repeat(10) + 'b']: 2 })), '2');
});
