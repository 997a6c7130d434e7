// Deeply nested remote JSON: up to Go's limit (10000 levels) it is read like any other document;
// deeper it is refused with Go's limit named, never reported as "not JSON" or a stack overflow.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { desiredSecret, extractProperty } from '../../../src/sync/desired.ts';
import { SyncError } from '../../../src/sync/errors.ts';
import { jsonDepth, MAX_JSON_DEPTH, parseRaw } from '../../../src/sync/json-raw.ts';
import { anExternalSecret, remote, textData, withExtract } from '../../fixtures/builders.ts';

const nested = (levels: number) => `${'{"a":'.repeat(levels)}"leaf"${'}'.repeat(levels)}`;
const enc = (s: string) => new TextEncoder().encode(s);

describe('deep JSON', () => {
  test('5,000 levels: a property is read, not "not JSON"', () => {
    const doc = `{"top":"x","deep":${nested(5000)}}`;
    assert.equal(Buffer.from(extractProperty(enc(doc), 'k', 'top', 'f')).toString(), 'x');
    assert.equal(parseRaw(nested(5000))?.kind, 'object');
  });

  test('10,000 levels (Go\'s limit) still work; one more is refused with the limit named', () => {
    assert.equal(parseRaw(nested(MAX_JSON_DEPTH))?.kind, 'object');
    assert.throws(() => extractProperty(enc(nested(MAX_JSON_DEPTH + 1)), 'db/json', 'a', 'spec.data[0].remoteRef.property'), (e: unknown) => {
      assert.ok(e instanceof SyncError);
      assert.equal(e.code, 'JSONTooDeep');
      assert.equal(e.field, 'spec.data[0].remoteRef.property');
      assert.equal(e.message, 'remote key "db/json" is JSON nested too deeply (limit 10000 levels, as in Go\'s encoding/json)');
      return true;
    });
  });

  test('dataFrom.extract of a 100,000-level document fails clearly', () => {
    const es = anExternalSecret(withExtract('db/json'));
    const r = desiredSecret({ externalSecret: es, fetched: { data: [], dataFrom: [remote(`{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`)] } });
    assert.equal(r.ok, false);
    assert.equal((r as { ok: false; error: SyncError }).error.code, 'JSONTooDeep');
  });

  test('extract of a deep but allowed document copies the nested value as written', () => {
    const es = anExternalSecret(withExtract('db/json'));
    const inner = nested(6000);
    const r = desiredSecret({ externalSecret: es, fetched: { data: [], dataFrom: [remote(`{"deep":${inner},"s":"v"}`)] } });
    assert.ok(r.ok && r.plan.action === 'write');
    assert.deepEqual(textData(r.plan.secret), { deep: inner, s: 'v' });
  });

  test('rewrite merge refuses what it cannot marshal back', () => {
    const es = anExternalSecret(withExtract('db/json', {}, [{ merge: { into: 'all' } }]));
    const r = desiredSecret({ externalSecret: es, fetched: { data: [], dataFrom: [remote(`{"x":${JSON.stringify(nested(MAX_JSON_DEPTH + 5))}}`)] } });
    assert.equal(r.ok, false);
    const e = (r as { ok: false; error: SyncError }).error;
    assert.equal(e.code, 'RewriteMergeFailed');
    assert.equal(e.message, 'rewrite merge failed: value of key "x" is JSON nested too deeply (limit 10000)');
  });

  test('jsonDepth skips strings', () => {
    assert.equal(jsonDepth('{"a":"[[[[\\"[[","b":[[1]]}'), 3);
  });
});
