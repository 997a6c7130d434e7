import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeValue } from '../../../src/sync/decode.ts';
import { convertKey, isValidSecretKey } from '../../../src/sync/keys.ts';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

test('decodingStrategy None / Base64 / Base64URL / Auto', () => {
  assert.equal(text(decodeValue('None', bytes('aGVsbG8='))), 'aGVsbG8=');
  assert.equal(text(decodeValue(undefined, bytes('x'))), 'x');
  assert.equal(text(decodeValue('Base64', bytes('aGVsbG8='))), 'hello');
  assert.equal(text(decodeValue('Base64', bytes('aGVs\nbG8='))), 'hello', 'Go skips newlines');
  assert.equal(decodeValue('Base64', bytes('aGVsbG8')), undefined, 'padding is required');
  assert.equal(decodeValue('Base64', bytes('not base64!')), undefined);
  assert.equal(decodeValue('Base64', bytes('-_8=')), undefined, 'URL alphabet is not Std');
  assert.deepEqual([...decodeValue('Base64URL', bytes('-_8='))!], [0xfb, 0xff]);
  assert.equal(decodeValue('Base64URL', bytes('+/8=')), undefined);
  assert.deepEqual([...decodeValue('Auto', bytes('+/8='))!], [0xfb, 0xff]);
  assert.deepEqual([...decodeValue('Auto', bytes('-_8='))!], [0xfb, 0xff]);
  assert.equal(text(decodeValue('Auto', bytes('plain text'))), 'plain text', 'Auto falls back to the raw value');
  assert.equal(text(decodeValue('Base64', bytes(''))), '');
});

test('conversionStrategy Default / Unicode, as ESO', () => {
  assert.equal(convertKey('Default', 'path/to/key'), 'path_to_key');
  assert.equal(convertKey('Unicode', 'path/to/key'), 'path_U002f_to_U002f_key');
  assert.equal(convertKey('Unicode', 'a b'), 'a_U0020_b');
  assert.equal(convertKey('Unicode', 'a😀'), 'a_U1f600_');
  assert.equal(convertKey('Default', 'ok-key_1.x'), 'ok-key_1.x');
  assert.equal(convertKey('Default', 'café'), 'café', 'ESO keeps Unicode letters...');
  assert.equal(isValidSecretKey('café'), false, '...which Kubernetes then refuses');
});

test('secret key validation', () => {
  assert.ok(isValidSecretKey('tls.crt'));
  assert.ok(isValidSecretKey('A-b_c.1'));
  assert.equal(isValidSecretKey(''), false);
  assert.equal(isValidSecretKey('a/b'), false);
  assert.equal(isValidSecretKey('x'.repeat(254)), false);
});
