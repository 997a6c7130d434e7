import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compile, replaceAllString } from '../../../src/go/regexp.ts';
import { rewriteKeys } from '../../../src/sync/rewrite.ts';
import { SyncError } from '../../../src/sync/errors.ts';
import { cpuMillis } from '../../fixtures/cpu-time.ts';

const replace = (source: string, src: string, target: string) => replaceAllString(compile(source), src, target);
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : undefined);
const map = (rec: Record<string, string>) => new Map(Object.entries(rec).map(([k, v]) => [k, enc(v)]));
const keys = (m: Map<string, Uint8Array>) => [...m.keys()].sort();

test('Go ReplaceAllString semantics', () => {
  assert.equal(replace('^path/', 'path/db', ''), 'db');
  assert.equal(replace('b*', 'abc', 'X'), 'XaXcX', 'no empty match right after a match');
  assert.equal(replace('(\\w+)-(\\w+)', 'foo-bar', '${2}_${1}'), 'bar_foo');
  assert.equal(replace('(\\w+)-(\\w+)', 'foo-bar', '$2_$1'), 'foo', 'Go reads $2_ as a group named "2_"');
  assert.equal(replace('(?P<env>dev|prod)-(?P<app>\\w+)', 'prod-api', '$app.$env'), 'api.prod', 'a $name ends at the first non-word character');
  assert.equal(replace('(?P<env>dev|prod)-(?P<app>\\w+)', 'prod-api', '${app}.${env}'), 'api.prod');
  assert.equal(replace('x', 'axb', '$$'), 'a$b');
  assert.equal(replace('x', 'axb', '$'), 'a$b', 'a lone $ is literal');
});

test('Go (RE2) regexp syntax', () => {
  assert.equal(replace('(?i)FOO', 'foo', 'bar'), 'bar');
  assert.equal(replace('[[:alpha:]]+', 'ab12cd', '_'), '_12_');
  assert.equal(replace('\\A/', '/a/b', ''), 'a/b');
  assert.equal(replace('/\\z', 'a/b/', ''), 'a/b');
  assert.equal(replace('\\Q.*\\E', 'a.*b', '-'), 'a-b');
  assert.equal(replace('\\pL+', 'ab1', 'L'), 'L1');
  assert.equal(replace('\\/', 'a/b', '_'), 'a_b');
  assert.equal(replace('\\_', 'a_b', '-'), 'a-b', 'Go allows escaping any punctuation');
  assert.equal(replace('(?U)a+', 'aaa', 'x'), 'xxx', 'ungreedy flag');
  assert.equal(replace('a(?i)b', 'aB AB', 'x'), 'x AB', 'flags after the start apply from there on');
  assert.throws(() => compile('(unclosed'), /missing closing \): `\(unclosed`/);
  assert.throws(() => compile('(?=a)'), /invalid or unsupported Perl syntax/, 'lookaround is not RE2');
});

test('rewrites apply in order', () => {
  const out = rewriteKeys([
    { regexp: { source: '^secret/', target: '' } },
    { regexp: { source: '/', target: '_' } },
  ], map({ 'secret/db/password': 'p', 'secret/db/user': 'u' }), 'spec.dataFrom[0]', undefined);
  assert.deepEqual(keys(out), ['db_password', 'db_user']);
  assert.equal(dec(out.get('db_password')), 'p');
});

test('transform needs a template engine; the hook receives each key', () => {
  assert.throws(() => rewriteKeys([{ transform: { template: '{{ .value | upper }}' } }], map({ a: '1' }), 'spec.dataFrom[0]', undefined),
    (err: SyncError) => err.code === 'TemplateEngineUnavailable' && err.field === 'spec.dataFrom[0].rewrite[0].transform.template');
  const out = rewriteKeys([{ transform: { template: 't' } }], map({ a: '1' }), 'f', (_t, key) => key.toUpperCase());
  assert.deepEqual(keys(out), ['A']);
  assert.throws(() => rewriteKeys([{ transform: { template: 't' } }], map({ a: '1' }), 'f', () => { throw new Error('bad template'); }),
    (err: SyncError) => err.code === 'TemplateFailed' && /bad template/.test(err.message));
});

test('invalid regexp is a typed error naming the field', () => {
  assert.throws(() => rewriteKeys([{ regexp: { source: '(', target: '' } }], map({ a: '1' }), 'spec.dataFrom[2]', undefined),
    (err: SyncError) => err.code === 'InvalidRewriteRegexp' && err.field === 'spec.dataFrom[2].rewrite[0].regexp.source'
      && err.message === 'invalid rewrite regexp: error parsing regexp: missing closing ): `(`');
  assert.throws(() => rewriteKeys([{ regexp: { source: '(a)\\1', target: '' } }], map({ a: '1' }), 'f', undefined),
    (err: SyncError) => err.code === 'InvalidRewriteRegexp' && /invalid escape sequence/.test(err.message), 'backreferences are not RE2');
});

test('a catastrophic-backtracking rewrite finishes in linear time', () => {
  const key = 'a'.repeat(100_000) + '!';
  let out = new Map<string, Uint8Array>();
  const ms = cpuMillis(() => out = rewriteKeys([{ regexp: { source: '(a+)+$', target: 'x' } }, { regexp: { source: '(a|a)*!', target: 'y' } }], map({ [key]: '1' }), 'f', undefined));
  assert.deepEqual(keys(out), ['y'], 'the first rewrite does not match (the key ends in "!"), the second takes the whole key');
  assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms of CPU (a backtracking engine never finishes)`);
});

test('merge rewrite (Extract and JSON strategies)', () => {
  const input = map({ b: '{"x":"2","n":1.5,"o":{"z":1,"a":"<"}}', a: '{"y":"1"}' });
  const extract = rewriteKeys([{ merge: {} }], input, 'f', undefined);
  assert.deepEqual(keys(extract), ['n', 'o', 'x', 'y']);
  assert.equal(dec(extract.get('n')), '1.5');
  assert.equal(dec(extract.get('o')), '{"a":"\\u003c","z":1}', 'nested values are re-marshalled like Go (sorted, HTML-escaped)');
  const json = rewriteKeys([{ merge: { strategy: 'JSON', into: 'all' } }], input, 'f', undefined);
  assert.deepEqual(keys(json), ['a', 'all', 'b']);
  assert.equal(dec(json.get('all')), '{"n":1.5,"o":{"a":"<","z":1},"x":"2","y":"1"}');
  assert.throws(() => rewriteKeys([{ merge: { strategy: 'JSON' } }], input, 'f', undefined), /missing 'into'/);
  const conflicting = map({ a: '{"k":"1"}', b: '{"k":"2"}' });
  assert.throws(() => rewriteKeys([{ merge: {} }], conflicting, 'f', undefined), (err: SyncError) => err.code === 'RewriteMergeFailed' && /"k"/.test(err.message));
  const prio = rewriteKeys([{ merge: { conflictPolicy: 'Ignore', priority: ['a'] } }], conflicting, 'f', undefined);
  assert.equal(dec(prio.get('k')), '1', 'priority keys are merged last and win');
  assert.throws(() => rewriteKeys([{ merge: { priority: ['zz'] } }], conflicting, 'f', undefined), /not found/);
  assert.deepEqual(keys(rewriteKeys([{ merge: { priority: ['zz'], priorityPolicy: 'IgnoreNotFound', conflictPolicy: 'Ignore' } }], conflicting, 'f', undefined)), ['k']);
  assert.throws(() => rewriteKeys([{ merge: {} }], map({ a: 'secret-not-json' }), 'f', undefined),
    (err: SyncError) => err.code === 'RewriteMergeFailed' && !err.message.includes('secret-not-json'));
});

test('merge writes JSON as Go does: -0 keeps its sign, a number out of float64 range is refused (the old copy wrote 0 and null)', () => {
  const merged = rewriteKeys([{ merge: { strategy: 'JSON', into: 'all' } }], map({ a: '{"n":-0,"h":"<&>"}' }), 'f', undefined);
  assert.equal(dec(merged.get('all')), '{"h":"<&>","n":-0}');
  assert.throws(() => rewriteKeys([{ merge: {} }], map({ a: '{"n":1e400}' }), 'f', undefined),
    (err: SyncError) => err.code === 'RewriteMergeFailed' && /out of float64 range/.test(err.message) && !err.message.includes('1e400'));
});

test('a rewrite too costly for a key is refused with the field named, and no key in the message', () => {
  const key = 'k'.repeat(100_000);
  assert.throws(() => rewriteKeys([{ regexp: { source: `(?i)${'a'.repeat(1000)}`, target: '' } }], map({ [key]: '1' }), 'spec.dataFrom[1]', undefined),
    (err: SyncError) => err.code === 'InvalidRewriteRegexp' && err.field === 'spec.dataFrom[1].rewrite[0].regexp.source'
      && err.message === 'invalid rewrite regexp: regexp: too costly: a pattern of 1002 instructions against 100000 characters, more than 67108864 steps');
});

test('a rewrite target repeated at every empty match cannot build a huge key', () => {
  // 301 empty matches of a 1,000,000-character target would be a 301 M-character key.
  const target = 'a'.repeat(1_000_000);
  const t0 = performance.now();
  assert.throws(() => rewriteKeys([{ regexp: { source: '', target } }], map({ ['k'.repeat(300)]: '1' }), 'spec.dataFrom[0]', undefined),
    (err: SyncError) => err.code === 'InvalidRewriteRegexp' && err.field === 'spec.dataFrom[0].rewrite[0].regexp.source'
      && /longer than 4096 characters/.test(err.message) && !err.message.includes('kkkk'));
  assert.ok(performance.now() - t0 < 2000, 'refused early, not after building the string');
  // A long but sane rewrite still works.
  const out = rewriteKeys([{ regexp: { source: '^', target: 'p-' } }], map({ ['k'.repeat(200)]: '1' }), 'f', undefined);
  assert.deepEqual(keys(out), [`p-${'k'.repeat(200)}`]);
});
