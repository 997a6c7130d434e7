import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonNumber } from '../../../../src/go/json.ts';
import { goPrintValue } from '../../../../src/providers/vault/gojson.ts';

// Vault's JSON itself is Go's (test/unit/go/json.test.ts); this is how a custom_metadata value prints.
test('goPrintValue formats custom_metadata values as %v', () => {
  assert.equal(goPrintValue('s'), 's');
  assert.equal(goPrintValue(new JsonNumber('7')), '7');
  assert.equal(goPrintValue(true), 'true');
  assert.equal(goPrintValue(null), '<nil>');
  assert.equal(goPrintValue({ b: '<', a: new JsonNumber('1.50') }), '{"a":1.50,"b":"\\u003c"}');
});
