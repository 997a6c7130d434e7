// Redaction covers values derived by templates: a planted marker value goes through fail, upper,
// substr, trunc, printf and key templates, and no form of it reaches an error message.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ExternalSecret } from '../../../src/api/types.generated.ts';
import { desiredSecret } from '../../../src/sync/desired.ts';
import type { SyncError } from '../../../src/sync/errors.ts';
import { makeRenderTemplate, renderKeyTemplate } from '../../../src/sync/template.ts';
import { anExternalSecret, found, remote, withData, withFind, withTemplate } from '../../fixtures/builders.ts';

const MARKER = 'Zq7marker9Xv';
// Every fragment of four or more characters of the marker, reversed, and base64 (of the marker and
// of its upper case), in any letter case: the forms the derived-value rows below produce.
const forms = [MARKER, [...MARKER].reverse().join(''), Buffer.from(MARKER).toString('base64'), Buffer.from(MARKER.toUpperCase()).toString('base64')];
const fragments = forms.flatMap((f) => Array.from({ length: f.length - 3 }, (_, i) => f.slice(i, i + 4).replace(/[+/=]/g, (c) => `\\${c}`)));
const leak = new RegExp(fragments.join('|'), 'i');

function errorOf(es: ExternalSecret, fetched = { data: [remote(MARKER)], dataFrom: [] as never[] }): SyncError {
  const r = desiredSecret({ externalSecret: es, fetched, renderTemplate: makeRenderTemplate(), renderKeyTemplate });
  assert.equal(r.ok, false, 'expected an error');
  return (r as { ok: false; error: SyncError }).error;
}
const tpl = (t: string) => anExternalSecret(withData('v', 'remote/key'), withTemplate({ data: { k: t } }));

describe('redaction of derived values', () => {
  const derived: Array<[string, string]> = [
    ['fail of the value', '{{ fail .v }}'],
    ['fail of upper', '{{ fail (upper .v) }}'],
    ['fail of lower', '{{ .v | lower | fail }}'],
    ['fail of substr', '{{ fail (substr 2 9 .v) }}'],
    ['fail of trunc', '{{ fail (trunc 6 .v) }}'],
    ['fail of printf', '{{ fail (printf "bad: %s!" (.v | title)) }}'],
    ['fail of reversed', '{{ fail (reverse .v) }}'],
    ['fail of b64enc', '{{ fail (b64enc .v) }}'],
    ['a function error on upper', '{{ upper .v | mustToDate "2006" }}'],
    ['a function error on substr', '{{ substr 1 8 .v | mustToDate "2006-01" }}'],
    ['semver of upper', '{{ semverCompare (upper .v) "1.0.0" }}'],
    ['regexp of trunc', '{{ mustRegexMatch (print (trunc 7 .v) "(") "x" }}'],
    ['range over a value', '{{ range upper .v }}{{ end }}'],
    ['if/with of a map', '{{ with dict "k" (upper .v) }}{{ .x.y }}{{ end }}'],
    ['call of a value', '{{ upper .v | call }}'],
    ['fromJson of a value', '{{ (upper .v) | fromJson | toString }}{{ mustFromJson (upper .v) }}'],
    ['index of a value', '{{ index (dict (upper .v) 1) "x" 2 }}'],
  ];
  for (const [what, t] of derived) {
    test(what, () => {
      const e = errorOf(tpl(t));
      assert.ok(e.code === 'TemplateFailed', `${e.code}: ${e.message}`);
      assert.doesNotMatch(e.message, leak, e.message);
      assert.match(e.message, /^could not render template: template: k:1:\d+: executing "k" at </, 'position and node are kept');
    });
  }

  test('a fail message written in the template text is kept', () => {
    const e = errorOf(tpl('{{ if lt (len .v) 40 }}{{ fail "v must be 40 characters or more" }}{{ end }}'));
    assert.match(e.message, /error calling fail: v must be 40 characters or more$/);
  });

  test('Go\'s fixed words stay: the function and what went wrong', () => {
    const e = errorOf(tpl('{{ upper .v | mustToDate "2006" }}'));
    assert.match(e.message, /error calling mustToDate: parsing time "\[redacted\]"/);
  });

  test('a key rendered from a value (KeysAndValues) is reported by position, not text', () => {
    const es = anExternalSecret(withData('v', 'remote/key'), withTemplate({
      templateFrom: [{ target: 'Data', literal: '{{ .v | upper }}/x: a\nok: b' }],
    }));
    const e = errorOf(es);
    assert.equal(e.code, 'InvalidSecretKey');
    assert.equal(e.field, 'spec.target.template.templateFrom[0].literal');
    assert.match(e.message, /^key 0 of the rendered map rendered by a template is not a valid secret key/);
    assert.doesNotMatch(e.message, leak);
  });

  test('a key produced by a rewrite transform is reported by position, not text', () => {
    const es = anExternalSecret(withFind({ path: 'p' }, [{ transform: { template: '{{ .value | upper }}/bad' } }]));
    const r = desiredSecret({ externalSecret: es, fetched: { data: [], dataFrom: [found({ [MARKER]: 'x' })] }, renderTemplate: makeRenderTemplate(), renderKeyTemplate });
    assert.equal(r.ok, false);
    const e = (r as { ok: false; error: SyncError }).error;
    assert.equal(e.code, 'InvalidSecretKey');
    assert.equal(e.field, 'spec.dataFrom[0].rewrite');
    assert.match(e.message, /^key 0 after rewrite rendered by a template is not a valid secret key/);
    assert.doesNotMatch(e.message, leak);
  });

  test('a rewrite transform error does not echo the key in any form', () => {
    const es = anExternalSecret(withFind({ path: 'p' }, [{ transform: { template: '{{ fail (printf "no %s" (upper .value)) }}' } }]));
    const r = desiredSecret({ externalSecret: es, fetched: { data: [], dataFrom: [found({ [MARKER]: 'x' })] }, renderTemplate: makeRenderTemplate(), renderKeyTemplate });
    assert.equal(r.ok, false);
    const e = (r as { ok: false; error: SyncError }).error;
    assert.equal(e.field, 'spec.dataFrom[0].rewrite[0].transform.template');
    assert.doesNotMatch(e.message, leak, e.message);
  });

  test('parse errors keep their text (the template lives in Git)', () => {
    const e = errorOf(tpl('{{ .v | nosuchfunc }}'));
    assert.match(e.message, /function "nosuchfunc" not defined/);
  });
});
