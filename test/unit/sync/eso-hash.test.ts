// ESO's content hashes (src/sync/eso-hash.ts) against Go: the fixed vectors in
// test/eso-hash-ref/vectors.json are Go's answers (regenerate with test/eso-hash-ref/generate.ts);
// with a Go toolchain installed, the same cases and a batch of random ones are also checked live.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { esoDataHash, esoSyncedResourceVersion } from '../../../src/sync/eso-hash.ts';
import { createdByLabelValue } from '../../../src/sync/secret.ts';
import { HASH_CASES, type HashCase } from '../../eso-hash-ref/cases.ts';
import { findGo, goHashes, refDir } from '../../eso-hash-ref/run.ts';

function tsHash(c: HashCase): string {
  if (c.text !== undefined) {
    const slash = c.text.indexOf('/');
    return createdByLabelValue(c.text.slice(0, slash), c.text.slice(slash + 1));
  }
  if (c.meta) {
    return esoSyncedResourceVersion({ generation: c.meta.generation, labels: c.meta.labels ?? undefined, annotations: c.meta.annotations ?? undefined });
  }
  return esoDataHash(new Map(Object.entries(c.data ?? {}).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))])));
}

const vectors = JSON.parse(readFileSync(join(refDir, 'vectors.json'), 'utf8')) as Array<{ name: string; hash: string }>;

describe('ESO hashes equal Go\'s (fixed vectors)', () => {
  test('the vectors cover every case, in order', () => {
    assert.deepEqual(vectors.map((v) => v.name), HASH_CASES.map((c) => c.name));
  });
  HASH_CASES.forEach((c, i) => {
    test(c.name, () => assert.equal(tsHash(c), vectors[i]!.hash));
  });
  test('the data hash changes with a value, a key and an emptied value', () => {
    const base = esoDataHash(new Map([['a', new Uint8Array([1])]]));
    assert.notEqual(esoDataHash(new Map([['a', new Uint8Array([2])]])), base);
    assert.notEqual(esoDataHash(new Map([['b', new Uint8Array([1])]])), base);
    assert.notEqual(esoDataHash(new Map([['a', new Uint8Array()]])), base);
  });
});

const go = findGo();
describe('ESO hashes equal Go\'s (live)', { skip: go ? false : 'no Go toolchain' }, () => {
  test('the stored vectors are what Go computes now', () => {
    assert.deepEqual(goHashes(HASH_CASES, go), vectors.map((v) => v.hash));
  });

  test('200 random data maps and metadata', () => {
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const alphabet = ['a', 'b', 'Z', '0', '.', '-', '_', 'é', '日', '😀', '\uffff', ' ', ':'];
    const word = (max: number) => Array.from({ length: 1 + rand(max) }, () => alphabet[rand(alphabet.length)]).join('');
    const cases: HashCase[] = [];
    for (let i = 0; i < 200; i++) {
      if (i % 4 === 3) {
        const rec = () => (rand(3) === 0 ? null : Object.fromEntries(Array.from({ length: rand(5) }, () => [word(6), word(8)])));
        cases.push({ name: `meta ${i}`, meta: { generation: rand(1000), labels: rec(), annotations: rec() } });
      } else {
        const data = Object.fromEntries(Array.from({ length: rand(6) }, () => [word(5), Buffer.from(Uint8Array.from({ length: rand(20) }, () => rand(256))).toString('base64')]));
        cases.push({ name: `data ${i}`, data });
      }
    }
    const want = goHashes(cases, go);
    cases.forEach((c, i) => assert.equal(tsHash(c), want[i], c.name));
  });
});
