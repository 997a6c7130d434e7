import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goMarshal, goPrintValue, JsonNumber, parseLossless } from '../../../../src/providers/vault/gojson.ts';

test('numbers keep their source text through parse and marshal', () => {
  const v = parseLossless('{"big":12345678901234567890,"f":1.50,"e":1e3,"neg":-0}');
  assert.equal(goMarshal(v), '{"big":12345678901234567890,"e":1e3,"f":1.50,"neg":-0}');
});

test('keys sorted by UTF-8 bytes (integer-like keys too), HTML and U+2028 escaped', () => {
  const v = parseLossless('{"b":1,"10":2,"2":3,"é":4,"z":"<a&b>\u2028"}');
  assert.equal(goMarshal(v), '{"10":2,"2":3,"b":1,"z":"\\u003ca\\u0026b\\u003e\\u2028","é":4}');
});

test('nested arrays and objects, null and booleans', () => {
  assert.equal(goMarshal(parseLossless('{"a":[{"y":null,"x":true}],"b":false}')), '{"a":[{"x":true,"y":null}],"b":false}');
});

test('goPrintValue formats custom_metadata values as %v', () => {
  assert.equal(goPrintValue('s'), 's');
  assert.equal(goPrintValue(new JsonNumber('7')), '7');
  assert.equal(goPrintValue(true), 'true');
});
