import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import type { ExternalSecret, ExternalSecretTemplate } from '../../../src/api/types.generated.ts';
import { desiredSecret, type FetchedValues, type SyncPlan } from '../../../src/sync/desired.ts';
import type { SyncError } from '../../../src/sync/errors.ts';
import { cpuMillis } from '../../fixtures/cpu-time.ts';
import { makeRenderKeyTemplate, makeRenderTemplate, renderKeyTemplate } from '../../../src/sync/template.ts';
import { templateRefs, type TemplateSources } from '../../../src/sync/template-refs.ts';
import {
  anExternalSecret, remote, textData, withAnnotations, withData, withExtract, withFind, withLabels, withTemplate, found,
} from '../../fixtures/builders.ts';

const db = (...extra: Array<(es: ExternalSecret) => void>) =>
  anExternalSecret(withData('user', 'db/user'), withData('password', 'db/password'), ...extra);
const dbValues: Partial<FetchedValues> = { data: [remote('admin'), remote('hunter2!')] };

function run(es: ExternalSecret, fetched: Partial<FetchedValues> = dbValues, sources: TemplateSources = {}) {
  return desiredSecret({
    externalSecret: es,
    fetched: { data: [], dataFrom: [], ...fetched },
    renderTemplate: makeRenderTemplate(sources),
    renderKeyTemplate,
  });
}
function written(es: ExternalSecret, fetched?: Partial<FetchedValues>, sources?: TemplateSources) {
  const result = run(es, fetched, sources);
  if (!result.ok) assert.fail(`unexpected error ${result.error.code}: ${result.error.message}`);
  assert.equal(result.plan.action, 'write');
  return result.plan as Extract<SyncPlan, { action: 'write' }>;
}
function errorOf(es: ExternalSecret, fetched?: Partial<FetchedValues>, sources?: TemplateSources): SyncError {
  const result = run(es, fetched, sources);
  assert.equal(result.ok, false, 'expected an error');
  return (result as { ok: false; error: SyncError }).error;
}
const tpl = (template: ExternalSecretTemplate) => withTemplate(template);

describe('template.data', () => {
  test('each value is a Go template over the provider data; Replace keeps only the template keys', () => {
    const plan = written(db(tpl({ data: { dsn: 'postgres://{{ .user }}:{{ .password | urlquery }}@db:5432/app', 'user.b64': '{{ .user | b64enc }}' } })));
    assert.deepEqual(textData(plan.secret), { dsn: 'postgres://admin:hunter2%21@db:5432/app', 'user.b64': 'YWRtaW4=' });
  });

  test('mergePolicy Merge keeps the provider keys; the template wins on conflicts', () => {
    const plan = written(db(tpl({ mergePolicy: 'Merge', data: { password: '{{ .password | upper }}', extra: 'x' } })));
    assert.deepEqual(textData(plan.secret), { user: 'admin', password: 'HUNTER2!', extra: 'x' });
  });

  test('type, and labels/annotations rendered from template.metadata (not copied from the ExternalSecret)', () => {
    const plan = written(db(withLabels({ team: 'a' }), withAnnotations({ note: 'n' }), tpl({
      type: 'kubernetes.io/basic-auth',
      metadata: { labels: { owner: '{{ .user }}' }, annotations: { 'example.com/len': '{{ len .password }}' } },
      data: { username: '{{ .user }}' },
    })));
    assert.equal(plan.secret.type, 'kubernetes.io/basic-auth');
    assert.equal(plan.secret.metadata.labels!['owner'], 'admin');
    assert.equal(plan.secret.metadata.labels!['team'], undefined);
    assert.equal(plan.secret.metadata.annotations!['example.com/len'], '8');
    assert.equal(plan.secret.metadata.annotations!['note'], undefined);
  });

  test('metadata templates alone keep the provider data as is', () => {
    const plan = written(db(tpl({ metadata: { labels: { who: '{{ .user | upper }}' } } })));
    assert.deepEqual(textData(plan.secret), { user: 'admin', password: 'hunter2!' });
    assert.equal(plan.secret.metadata.labels!['who'], 'ADMIN');
  });

  test('binary output is kept byte for byte', () => {
    const bytes = Buffer.from([0, 0xff, 0x80, 0x0a]);
    const plan = written(anExternalSecret(withData('b64', 'k'), tpl({ data: { bin: '{{ .b64 | b64dec }}' } })), { data: [remote(bytes.toString('base64'))] });
    assert.deepEqual([...Buffer.from(plan.secret.data!['bin']!, 'base64')], [0, 0xff, 0x80, 0x0a]);
  });

  test('dataFrom values are template data too', () => {
    const plan = written(anExternalSecret(withExtract('app'), tpl({ data: { url: 'https://{{ .host }}:{{ .port }}' } })),
      { dataFrom: [remote('{"host":"h.example","port":8443}')] });
    assert.deepEqual(textData(plan.secret), { url: 'https://h.example:8443' });
  });
});

describe('templateFrom', () => {
  const sources: TemplateSources = {
    configMaps: new Map([['tpl', {
      'config.ini': '[db]\nuser = {{ .user }}\n',
      kv: 'a: "{{ .user }}"\nb: {{ .password | quote }}\n',
      labels: 'tier: backend\nowner: {{ .user }}\n',
      'data.yaml': 'password: overridden-by-data',
    }]]),
    secrets: new Map([['stpl', { 'token.txt': new TextEncoder().encode('{{ .password | sha256sum | trunc 8 }}'), kv: new TextEncoder().encode('s: x') }]]),
  };

  test('configMap and secret items: Values and KeysAndValues, targets Data / Labels / Annotations', () => {
    const es = db(tpl({
      templateFrom: [
        { configMap: { name: 'tpl', items: [{ key: 'config.ini' }, { key: 'kv', templateAs: 'KeysAndValues' }] } },
        { target: 'Labels', configMap: { name: 'tpl', items: [{ key: 'labels', templateAs: 'KeysAndValues' }] } },
        { secret: { name: 'stpl', items: [{ key: 'token.txt' }] } },
        { target: 'Annotations', literal: 'checksum: "{{ .password | adler32sum }}"' },
      ],
    }));
    const plan = written(es, dbValues, sources);
    assert.deepEqual(textData(plan.secret), {
      'config.ini': '[db]\nuser = admin\n', a: 'admin', b: 'hunter2!', 'token.txt': createHash('sha256').update('hunter2!').digest('hex').slice(0, 8),
    });
    assert.equal(plan.secret.metadata.labels!['tier'], 'backend');
    assert.equal(plan.secret.metadata.labels!['owner'], 'admin');
    assert.match(plan.secret.metadata.annotations!['checksum']!, /^\d+$/);
  });

  test('precedence: later templateFrom over earlier, template.data over templateFrom, metadata over templateFrom', () => {
    const es = db(tpl({
      templateFrom: [
        { literal: 'x: first\npassword: from-literal' },
        { literal: 'x: second' },
        { target: 'Labels', literal: 'l: from-templateFrom' },
      ],
      data: { password: 'from-data' },
      metadata: { labels: { l: 'from-metadata' } },
    }));
    const plan = written(es);
    assert.deepEqual(textData(plan.secret), { x: 'second', password: 'from-data' });
    assert.equal(plan.secret.metadata.labels!['l'], 'from-metadata');
  });

  test('KeysAndValues follows map[string]string: null is "", numbers and booleans are errors', () => {
    assert.deepEqual(textData(written(db(tpl({ templateFrom: [{ literal: 'a: ~\nb: "1"' }] }))).secret), { a: '', b: '1' });
    const err = errorOf(db(tpl({ templateFrom: [{ literal: 'port: 5432' }] })));
    assert.equal(err.code, 'TemplateFailed');
    assert.equal(err.field, 'spec.target.template.templateFrom[0].literal');
    assert.match(err.message, /cannot unmarshal number into Go value of type string/);
    assert.match(errorOf(db(tpl({ templateFrom: [{ literal: 'enabled: yes' }] }))).message, /cannot unmarshal bool/);
    assert.match(errorOf(db(tpl({ templateFrom: [{ literal: '- a\n- b' }] }))).message, /cannot unmarshal array into Go value of type map\[string\]string/);
  });

  test('bad YAML errors name the line, not the rendered text', () => {
    const err = errorOf(db(tpl({ templateFrom: [{ literal: 'a: {{ .password }}\n  b: c: d' }] })));
    assert.equal(err.code, 'TemplateFailed');
    assert.match(err.message, /yaml: line \d+/);
    assert.doesNotMatch(err.message, /hunter2/);
  });

  test('missing sources and keys', () => {
    const missing = errorOf(db(tpl({ templateFrom: [{ configMap: { name: 'nope', items: [{ key: 'k' }] } }] })), dbValues, sources);
    assert.equal(missing.field, 'spec.target.template.templateFrom[0].configMap.name');
    assert.match(missing.message, /configmap "nope" not found/);
    const key = errorOf(db(tpl({ templateFrom: [{ secret: { name: 'stpl', items: [{ key: 'absent' }] } }] })), dbValues, sources);
    assert.equal(key.field, 'spec.target.template.templateFrom[0].secret.items[0].key');
    assert.match(key.message, /error in secret stpl: missing key absent/);
  });

  test('a KeysAndValues key that is not a valid Secret key is refused', () => {
    const err = errorOf(db(tpl({ templateFrom: [{ literal: '"a b": x' }] })));
    assert.equal(err.code, 'InvalidSecretKey');
  });

  test('templateRefs lists what the controller must fetch', () => {
    const es = db(tpl({
      templateFrom: [
        { configMap: { name: 'b', items: [] } }, { configMap: { name: 'a', items: [] }, secret: { name: 's', items: [] } },
        { configMap: { name: 'a', items: [] } }, { literal: 'x: y' },
      ],
    }));
    assert.deepEqual(templateRefs(es), { configMaps: ['a', 'b'], secrets: ['s'] });
    assert.deepEqual(templateRefs(anExternalSecret()), { configMaps: [], secrets: [] });
  });
});

describe('errors', () => {
  test('Go line:col text and the field at fault', () => {
    const err = errorOf(db(tpl({ data: { 'tls.crt': 'x\n{{ .nope }}' } })));
    assert.equal(err.code, 'TemplateFailed');
    assert.equal(err.field, 'spec.target.template.data["tls.crt"]');
    assert.equal(err.message, 'could not render template: template: tls.crt:2:3: executing "tls.crt" at <.nope>: map has no entry for key "nope"');
    const parse = errorOf(db(tpl({ metadata: { labels: { a: '{{ .user ' } } })));
    assert.equal(parse.field, 'spec.target.template.metadata.labels.a');
    assert.equal(parse.message, 'could not render template: template: a:1: unclosed action');
  });

  test('secret values never appear in error messages', () => {
    const cases: Array<[string, RegExp]> = [
      ['{{ range .password }}{{ end }}', /range can't iterate over \[redacted\]/],
      ['{{ fail (printf "bad password %s" .password) }}', /error calling fail: \[redacted\]$/],
      ['{{ mustToDate "2006-01-02" .password }}', /parsing time "\[redacted\]"/],
      ['{{ mustToDate "x" (upper .password) }}', /parsing time "\[redacted\]" as "\[redacted\]"/],
      ['{{ semverCompare .password "1.0.0" }}', /improper constraint: \[redacted\]/],
      ['{{ .password | call }}', /non-function \[redacted\] of type string/],
      ['{{ mustRegexMatch (print .password "(") "x" }}', /error parsing regexp: missing closing \): `\[redacted\]`/],
      ['{{ jwkPublicKeyPem .password }}', /failed to parse key/],
      ['{{ eq (dict "a" .password) .password }}', /incompatible types for comparison/],
    ];
    for (const [t, expected] of cases) {
      const err = errorOf(db(tpl({ data: { k: t } })));
      assert.equal(err.code, 'TemplateFailed', t);
      assert.match(err.message, expected, t);
      assert.doesNotMatch(err.message, /hunter2|HUNTER2/, t);
    }
  });

  test('redacting a long error message takes linear time', () => {
    // Go's message quotes the pattern: "[`" opens a raw string, then 30,000 `\"` with no closing
    // quote. The backtracking scan for quoted strings took tens of seconds on this.
    let err: SyncError | undefined;
    const ms = cpuMillis(() => (err = errorOf(db(tpl({ data: { k: '{{ mustRegexMatch (print "[`" (repeat 30000 "\\\\\\"")) "x" }}' } })))));
    assert.equal(err!.code, 'TemplateFailed');
    assert.match(err!.message, /error parsing regexp: missing closing \]/);
    assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms of CPU`);
  });
});

describe('rewrite transform', () => {
  test('.value is the key; a missing key prints <no value>, as in ESO', () => {
    const es = anExternalSecret(withFind({ name: { regexp: '.*' } }, [{ transform: { template: 'app_{{ .value | lower | replace "-" "_" }}' } }]));
    const plan = written(es, { dataFrom: [found({ 'DB-USER': 'u', 'DB-PASS': 'p' })] });
    assert.deepEqual(textData(plan.secret), { app_db_user: 'u', app_db_pass: 'p' });
    assert.equal(renderKeyTemplate('{{ .other }}x', 'k'), '<no value>x');
  });

  test('errors name the rewrite and do not echo the key', () => {
    const es = anExternalSecret(withFind({ name: { regexp: '.*' } }, [{ transform: { template: '{{ range .value }}{{ end }}' } }]));
    const result = run(es, { dataFrom: [found({ 'secret-name-xyz': 'v' })] });
    assert.equal(result.ok, false);
    const err = (result as { ok: false; error: SyncError }).error;
    assert.equal(err.field, 'spec.dataFrom[0].rewrite[0].transform.template');
    assert.equal(err.message, 'could not render template: template: transform:1:9: executing "transform" at <.value>: range can\'t iterate over [redacted]');
  });

  test('custom delimiters apply to target.template, not to transforms', () => {
    const render = makeRenderTemplate({}, { leftDelim: '[[', rightDelim: ']]' });
    const out = render({ template: { data: { a: '[[ .user ]] {{ .user }}' } }, data: new Map([['user', new TextEncoder().encode('u')]]), externalSecret: anExternalSecret() });
    assert.equal(Buffer.from(out.data.get('a')!).toString(), 'u {{ .user }}');
    assert.equal(makeRenderKeyTemplate()('{{ .value }}', 'k'), 'k');
  });
});
