// src/go/sort.ts: Go's string order (UTF-8 bytes), the one comparator for JSON map keys, rewrite
// merge order and the template's sorted map ranges, `lt` and sortAlpha.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareGoStrings, sortedGoStrings } from '../../../src/go/sort.ts';

const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

test('agrees with a byte comparison of the UTF-8 encodings', () => {
  const words = ['', 'a', 'A', 'ab', 'a\u0000', 'é', 'e', '\uffff', '\ue000', '😀', '😀a', '！', '\u07ff', '\u0800', 'z', '10', '9'];
  for (const a of words) {
    for (const b of words) assert.equal(Math.sign(compareGoStrings(a, b)), Math.sign(byBytes(a, b)), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  }
});

test('differs from JS sort where a surrogate pair meets U+E000..U+FFFF', () => {
  assert.deepEqual(['😀', '！'].sort(), ['😀', '！'], 'UTF-16 order');
  assert.deepEqual(sortedGoStrings(['😀', '！']), ['！', '😀'], 'Go order');
});

test('random strings sort as their bytes do', () => {
  const alphabet = ['a', 'b', 'é', '\u0800', '\uffee', '\ue001', '😀', '𝔸', '\u0000'];
  let seed = 42;
  const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const words = Array.from({ length: 300 }, () => Array.from({ length: rnd(5) }, () => alphabet[rnd(alphabet.length)]).join(''));
  assert.deepEqual(sortedGoStrings(words), [...words].sort(byBytes));
});
