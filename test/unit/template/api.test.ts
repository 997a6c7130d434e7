// Unit tests of the public API and of ESO functions that the Go reference does not cover.

process.env['TZ'] = 'UTC';

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, createPublicKey } from 'node:crypto';
import { parseTemplate, esoData, renderESO, TemplateError, GoError } from '../../../src/template/index.ts';

test('parse errors are TemplateError with Go text', () => {
  assert.throws(() => parseTemplate('k', '{{ nope }}'), (e: unknown) => {
    assert.ok(e instanceof TemplateError);
    assert.equal(e.kind, 'parse');
    assert.equal(e.message, 'template: k:1: function "nope" not defined');
    return true;
  });
});

test('missing key is an error by default (ESO missingkey=error)', () => {
  const t = parseTemplate('k', 'x{{ .a }}');
  assert.throws(() => t.execute(esoData({})), /map has no entry for key "a"/);
  assert.equal(parseTemplate('k', '{{ .a }}', { missingKey: 'default' }).execute(esoData({})), '<no value>');
});

test('binary output is preserved by executeBytes / renderESO', () => {
  const bin = Buffer.from([0xff, 0x00, 0xfe, 0x41]);
  const out = renderESO('k', '{{ .v | b64dec }}', { v: bin.toString('base64') });
  assert.deepEqual(out, bin);
  const round = renderESO('k', '{{ .v | b64enc }}', { v: bin });
  assert.equal(round.toString(), bin.toString('base64'));
});

test('defined templates and executeTemplate', () => {
  const t = parseTemplate('main', '{{ define "inner" }}<{{ . }}>{{ end }}{{ template "inner" .x }}');
  assert.equal(t.execute(esoData({ x: 'y' })), '<y>');
  assert.equal(t.executeTemplate('inner', 'z'), '<z>');
  assert.deepEqual(t.definedTemplates().sort(), ['inner', 'main']);
  t.parseNamed('other', '[{{ template "inner" . }}]');
  assert.equal(t.executeTemplate('other', 1n), '[<1>]');
});

test('custom funcs and delimiters', () => {
  const t = parseTemplate('k', '<< twice .a >>', {
    leftDelim: '<<',
    rightDelim: '>>',
    funcs: { twice: { params: ['string'], fn: (s: string) => s + s } },
  });
  assert.equal(t.execute(esoData({ a: 'ab' })), 'abab');
  const f = parseTemplate('k', '{{ boom }}', { funcs: { boom: { params: [], fn: () => { throw new GoError('bad'); } } } });
  assert.throws(() => f.execute({}), /error calling boom: bad/);
});

test('jwkPublicKeyPem / jwkPrivateKeyPem match node:crypto (openssl) output', () => {
  for (const [type, opts] of [['rsa', { modulusLength: 2048 }], ['ec', { namedCurve: 'P-256' }], ['ed25519', {}]] as const) {
    const { privateKey } = generateKeyPairSync(type as 'rsa', opts as { modulusLength: number });
    const jwk = JSON.stringify(privateKey.export({ format: 'jwk' }));
    const pub = parseTemplate('k', '{{ .j | jwkPublicKeyPem }}').execute(esoData({ j: jwk }));
    assert.equal(pub, createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }));
    const priv = parseTemplate('k', '{{ .j | jwkPrivateKeyPem }}').execute(esoData({ j: jwk }));
    assert.equal(priv, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  }
  assert.throws(() => parseTemplate('k', '{{ jwkPublicKeyPem "{}" }}').execute(esoData({})), /error calling jwkPublicKeyPem/);
});
