// The Password generator's character classes, lengths, repeats, keys and encodings (ESO's options).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_SYMBOLS, DIGITS, LOWER_LETTERS, UPPER_LETTERS, base32, encodePassword, generatePassword, generatePasswords, passwordOptions,
} from '../../../src/generators/password.ts';
import { GeneratorError } from '../../../src/generators/errors.ts';

const count = (s: string, set: string) => [...s].filter((c) => set.includes(c)).length;

test('defaults: 24 characters, a quarter digits and a quarter symbols, letters of both cases, no repeats', () => {
  for (let i = 0; i < 50; i++) {
    const p = generatePassword(passwordOptions(undefined, 'spec'));
    assert.equal(p.length, 24);
    assert.equal(count(p, DIGITS), 6);
    assert.equal(count(p, DEFAULT_SYMBOLS), 6);
    assert.equal(count(p, LOWER_LETTERS + UPPER_LETTERS), 12);
    assert.equal(new Set(p).size, p.length, 'no character repeats');
  }
});

test('the docs example: length 42, 5 digits, 5 symbols from "-_$@", repeats allowed', () => {
  const o = passwordOptions({ length: 42, digits: 5, symbols: 5, symbolCharacters: '-_$@', noUpper: false, allowRepeat: true }, 'spec');
  for (let i = 0; i < 50; i++) {
    const p = generatePassword(o);
    assert.equal(p.length, 42);
    assert.equal(count(p, DIGITS), 5);
    assert.equal(count(p, '-_$@'), 5);
    assert.equal(count(p, LOWER_LETTERS + UPPER_LETTERS), 32);
    assert.match(p, /^[-_$@a-zA-Z0-9]+$/);
  }
});

test('noUpper leaves out upper-case letters; over many draws both cases appear otherwise', () => {
  const lower = Array.from({ length: 30 }, () => generatePassword(passwordOptions({ length: 40, noUpper: true, allowRepeat: true }, 'spec'))).join('');
  assert.equal(count(lower, UPPER_LETTERS), 0);
  const mixed = Array.from({ length: 30 }, () => generatePassword(passwordOptions({ length: 40, allowRepeat: true }, 'spec'))).join('');
  assert.ok(count(mixed, UPPER_LETTERS) > 0 && count(mixed, LOWER_LETTERS) > 0);
});

test('without repeats, asking for more distinct characters than a class has is refused (never loops)', () => {
  assert.throws(() => generatePassword(passwordOptions({ length: 20, digits: 11, symbols: 0 }, 'spec')), (e: unknown) => e instanceof GeneratorError && /spec\.digits/.test(e.message));
  assert.throws(() => generatePassword(passwordOptions({ length: 10, digits: 0, symbols: 3, symbolCharacters: 'ab' }, 'spec')), GeneratorError);
  // Symbols that overlap letters: only the unused ones may be drawn.
  const p = generatePassword(passwordOptions({ length: 30, digits: 0, symbols: 4, symbolCharacters: 'abcdefghijklmnopqrstuvwxyz!@#$', noUpper: true }, 'spec'));
  assert.equal(new Set(p).size, 30);
  // All of the 26 lower letters go to letters; the 4 symbols can only be !@#$.
  assert.equal(count(p, '!@#$'), 4);
});

test('digits and symbols past the length are refused, naming the field', () => {
  assert.throws(() => generatePassword(passwordOptions({ length: 4, digits: 3, symbols: 2, allowRepeat: true }, 'Password "p" spec'), 'Password "p" spec'), /Password "p" spec\.length: digits \(3\) and symbols \(2\) exceed the length \(4\)/);
});

test('secretKeys: one independent password per key; duplicates refused', () => {
  const out = generatePasswords({ length: 16, secretKeys: ['a', 'b', 'c'] });
  assert.deepEqual(Object.keys(out), ['a', 'b', 'c']);
  const values = Object.values(out).map((v) => Buffer.from(v).toString());
  assert.equal(new Set(values).size, 3);
  for (const v of values) assert.equal(v.length, 16);
  assert.deepEqual(Object.keys(generatePasswords({})), ['password']);
  assert.throws(() => generatePasswords({ secretKeys: ['a', 'a'] }), /secretKeys must be non-empty and unique/);
});

test('encodings are Go\'s (padded base64, base64url, base32, hex)', () => {
  assert.equal(encodePassword('ab?>', 'base64'), 'YWI/Pg==');
  assert.equal(encodePassword('ab?>', 'base64url'), 'YWI_Pg==');
  assert.equal(encodePassword('foobar', 'base32'), 'MZXW6YTBOI======');
  assert.equal(base32(Buffer.from('f')), 'MY======');
  assert.equal(encodePassword('hi', 'hex'), '6869');
  assert.equal(encodePassword('hi', 'raw'), 'hi');
  const out = generatePasswords({ length: 12, encoding: 'hex' });
  assert.match(Buffer.from(out['password']!).toString(), /^[0-9a-f]{24}$/);
});

test('a length past the bound is refused before any work', () => {
  assert.throws(() => passwordOptions({ length: 1_000_000 }, 'spec'), /spec\.length: must be at most 4096/);
});
