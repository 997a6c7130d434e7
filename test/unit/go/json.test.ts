// src/go/json.ts: Go's encoding/json output, the one copy every provider, the rewrite merge and the
// template functions use. Each expectation is what Go's json.Marshal writes for the same value;
// the cases marked "copies disagreed" are where an earlier copy wrote something else.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { goJsonFloat, goJsonMarshal, GoJsonError, goJsonString, JsonNumber, parseGoJson, parseJsonKeepingNumbers } from '../../../src/go/json.ts';

const html = { escapeHTML: true };
const raw = { escapeHTML: false };

describe('strings', () => {
  test('HTML characters are escaped only with escapeHTML, U+2028/U+2029 always', () => {
    assert.equal(goJsonString('<a&b>', true), '"\\u003ca\\u0026b\\u003e"');
    assert.equal(goJsonString('<a&b>', false), '"<a&b>"');
    assert.equal(goJsonString('x\u2028y\u2029', false), '"x\\u2028y\\u2029"');
  });
  test('control characters use the short escapes Go has (\\b and \\f since Go 1.22), else \\u00XX', () => {
    assert.equal(goJsonString('"\\\n\r\t\b\f\u0001\u001f\u007f', false), '"\\"\\\\\\n\\r\\t\\b\\f\\u0001\\u001f\u007f"');
  });
  test('non-ASCII and surrogate pairs are written as they are', () => {
    assert.equal(goJsonString('é😀', true), '"é😀"');
  });
  test('a lone surrogate becomes \\ufffd, as Go replaces invalid UTF-8 (copies disagreed: JSON.stringify writes \\ud800)', () => {
    assert.equal(goJsonString('a\ud800b', false), '"a\\ufffdb"');
    assert.equal(goJsonString('\udc00', false), '"\\ufffd"');
    assert.equal(goJsonMarshal({ k: 'a\ud800' }, raw), '{"k":"a\\ufffd"}');
  });
});

describe('numbers', () => {
  test('float64 as Go formats it: %f between 1e-6 and 1e21, %e outside', () => {
    const cases: Array<[number, string]> = [
      [0, '0'], [1, '1'], [1.5, '1.5'], [-2.25, '-2.25'], [0.000001, '0.000001'], [1e-7, '1e-7'],
      [123456789012345680000, '123456789012345680000'], [1e21, '1e+21'], [1.5e300, '1.5e+300'], [5e-324, '5e-324'],
      [0.1 + 0.2, '0.30000000000000004'],
    ];
    for (const [f, text] of cases) assert.equal(goJsonFloat(f), text, String(f));
  });
  test('-0 keeps its sign (copies disagreed: JSON.stringify and String write 0)', () => {
    assert.equal(goJsonFloat(-0), '-0');
    assert.equal(goJsonMarshal({ a: -0 }, raw), '{"a":-0}');
  });
  test('NaN and ±Inf are errors, not null (copies disagreed: JSON.stringify writes null)', () => {
    assert.throws(() => goJsonFloat(NaN), (e: Error) => e instanceof GoJsonError && e.message === 'json: unsupported value: NaN');
    assert.throws(() => goJsonMarshal([Infinity]), /json: unsupported value: \+Inf/);
    assert.throws(() => goJsonMarshal({ a: -Infinity }), /json: unsupported value: -Inf/);
  });
  test('bigints are int64 and JsonNumbers keep their source text', () => {
    assert.equal(goJsonMarshal([12345678901234567890n, new JsonNumber('1.50')]), '[12345678901234567890,1.50]');
  });
});

describe('maps', () => {
  test('keys are sorted by UTF-8 bytes, integer-like keys too (JS objects put those first)', () => {
    assert.equal(goJsonMarshal({ b: 1, 10: 2, 2: 3, é: 4, a: 5 }), '{"10":2,"2":3,"a":5,"b":1,"é":4}');
  });
  test('a character above U+FFFF sorts after U+FF01, as in Go (UTF-16 order puts it first)', () => {
    assert.equal(goJsonMarshal(new Map([['😀', 1], ['！', 2]]), raw), '{"！":2,"😀":1}');
  });
  test('Maps, nested arrays and objects, null and booleans; keys HTML-escaped too', () => {
    assert.equal(goJsonMarshal({ a: [{ y: null, x: true }], b: false, '<': undefined }), '{"\\u003c":null,"a":[{"x":true,"y":null}],"b":false}');
    assert.equal(goJsonMarshal(new Map([['z', '&'], ['a', 'x']]), raw), '{"a":"x","z":"&"}');
  });
  test('nil map is null; []byte is base64', () => {
    assert.equal(goJsonMarshal(undefined), 'null');
    assert.equal(goJsonMarshal({ b: new Uint8Array([0xff, 0x00]) }), '{"b":"/wA="}');
  });
});

describe('parsing', () => {
  test('parseJsonKeepingNumbers keeps every number as its text (json.Number)', () => {
    const v = parseJsonKeepingNumbers('{"big":12345678901234567890,"f":1.50,"e":1e3,"neg":-0}');
    assert.equal(goJsonMarshal(v), '{"big":12345678901234567890,"e":1e3,"f":1.50,"neg":-0}');
  });
  test('parseGoJson refuses a number float64 cannot hold, as json.Unmarshal does', () => {
    assert.deepEqual(parseGoJson('{"a":1.5,"b":[-0]}'), { a: 1.5, b: [-0] });
    assert.throws(() => parseGoJson('{"a":1e400}'), (e: Error) => e instanceof GoJsonError && /cannot unmarshal number 1e400/.test(e.message));
    assert.throws(() => parseGoJson('{'), SyntaxError);
  });
});
