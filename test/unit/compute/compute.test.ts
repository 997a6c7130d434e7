// computeDesiredSecret through real workers: the result equals the inline computation, and
// hostile templates end as the ExternalSecret's own ComputeBudgetExceeded error.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createDesiredSecretCompute, needsIsolation } from '../../../src/compute/index.ts';
import { computeInline } from '../../../src/compute/task.ts';
import { computeWithoutTemplates } from '../../../src/compute/plain.ts';
import { computePushEntries, pushNeedsIsolation, type PushEntriesInput } from '../../../src/compute/push.ts';
import { renderKeyTemplate } from '../../../src/sync/template.ts';
import type { ExternalSecret } from '../../../src/api/types.generated.ts';
import type { SyncError } from '../../../src/sync/errors.ts';
import { anExternalSecret, found as foundValues, remote, withData, withFind, withTemplate } from '../../fixtures/builders.ts';

const compute = createDesiredSecretCompute({ workers: 2, timeoutMs: 1500, memoryLimitMb: 48 });
after(() => compute.close());

const withTpl = (t: string) => anExternalSecret(withData('password', 'db/password'), withTemplate({ data: { k: t } }));
const fetched = { data: [remote('hunter2-marker')], dataFrom: [] };
async function errorOf(es: ExternalSecret): Promise<SyncError> {
  const r = await compute.computeDesiredSecret({ externalSecret: es, fetched });
  assert.equal(r.ok, false, 'expected an error');
  return (r as { ok: false; error: SyncError }).error;
}

describe('computeDesiredSecret', () => {
  test('a worker computes what the inline computation computes', async () => {
    const es = withTpl('{{ .password | upper | b64enc }}');
    const viaWorker = await compute.computeDesiredSecret({ externalSecret: es, fetched });
    assert.deepEqual(viaWorker, computeInline({ externalSecret: es, fetched }));
    assert.equal(viaWorker.ok && viaWorker.plan.action === 'write' && Buffer.from(viaWorker.plan.secret.data!['k']!, 'base64').toString(), Buffer.from('HUNTER2-MARKER').toString('base64'));
  });

  test('a template error crosses as a SyncError naming the field', async () => {
    const e = await errorOf(withTpl('{{ .nope }}'));
    assert.equal(e.code, 'TemplateFailed');
    assert.equal(e.field, 'spec.target.template.data.k');
  });

  test('seq and repeat over the caps fail fast with ComputeBudgetExceeded', async () => {
    const seq = await errorOf(withTpl('{{ seq 1 100000000 | len }}'));
    assert.equal(seq.code, 'ComputeBudgetExceeded');
    assert.equal(seq.message, 'compute budget exceeded: a list function would build a list of 100000000 elements (limit 1000000)');
    const repeat = await errorOf(withTpl('{{ repeat 100000000 "a" }}'));
    assert.equal(repeat.message, 'compute budget exceeded: repeat would build a string of 100000000 characters (limit 16777216)');
  });

  test('a render past the deadline fails its ExternalSecret with the time budget', async () => {
    const e = await errorOf(withTpl('{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}'));
    assert.equal(e.code, 'ComputeBudgetExceeded');
    assert.equal(e.message, 'compute budget exceeded: time limit 1500ms (--template-timeout)');
    assert.equal(e.field, 'spec.target.template');
  });

  test('a render past the memory limit fails its ExternalSecret with the memory budget', async () => {
    // Lists of a million integers each, all kept alive: far over 48 MiB of heap, quickly.
    const hoard = `${Array.from({ length: 8 }, (_, i) => `{{ $l${i} := until 1000000 }}`).join('')}{{ len $l0 }}`;
    // Near its limit V8 collects garbage again and again before it gives up: allow the time.
    const roomy = createDesiredSecretCompute({ workers: 1, timeoutMs: 30_000, memoryLimitMb: 48 });
    const r = await roomy.computeDesiredSecret({ externalSecret: withTpl(hoard), fetched });
    await roomy.close();
    assert.equal(r.ok, false);
    const e = (r as { ok: false; error: SyncError }).error;
    assert.equal(e.code, 'ComputeBudgetExceeded');
    assert.equal(e.message, 'compute budget exceeded: memory limit 48Mi (--template-memory-limit)');
    // The pool carries on.
    const ok = await compute.computeDesiredSecret({ externalSecret: withTpl('{{ .password }}'), fetched });
    assert.equal(ok.ok, true);
  });

  test('a recursive template gives Go\'s message', async () => {
    const e = await errorOf(withTpl('{{define "x"}}{{template "x" .}}{{end}}{{template "x" .}}'));
    assert.equal(e.message, 'could not render template: template: k:1:25: executing "x" at <{{template "x" .}}>: exceeded maximum template depth (100000)');
  });

  test('a rendered Secret over 1 MiB is refused with SecretTooLarge', async () => {
    const e = await errorOf(withTpl('{{ repeat 1100000 "a" }}'));
    assert.equal(e.code, 'SecretTooLarge');
    assert.match(e.message, /would hold 1100000 bytes of data, more than a Secret can hold \(1048576 bytes\)/);
  });

  test('strings made from buffers (outside the heap limit) are bounded by the allocation meter', async () => {
    const e = await errorOf(withTpl('{{ $d := dict }}{{ range $i := until 200 }}{{ $_ := set $d (print $i) (randBytes 16000000) }}{{ end }}'));
    assert.equal(e.code, 'ComputeBudgetExceeded');
    assert.equal(e.message, 'compute budget exceeded: template functions returned more than 67108864 characters in all');
  });

  test('templated labels and annotations over 256 KiB are refused with SecretTooLarge', async () => {
    const es = anExternalSecret(withData('password', 'db/password'), withTemplate({ metadata: { annotations: { big: '{{ repeat 300000 "a" }}' } } }));
    const e = await errorOf(es);
    assert.equal(e.code, 'SecretTooLarge');
    assert.equal(e.field, 'spec.target.template.metadata');
  });

  test('only tenant-driven compute goes to a worker', () => {
    assert.equal(needsIsolation(anExternalSecret(withData('a', 'k'))), false);
    assert.equal(needsIsolation(withTpl('x')), true);
    assert.equal(needsIsolation(anExternalSecret(withFind({ path: 'p' }, [{ transform: { template: '{{ .value }}' } }]))), true);
    assert.equal(needsIsolation(anExternalSecret(withFind({ path: 'p' }, [{ regexp: { source: 'a', target: 'b' } }]))), false);
  });

  test('the inline path without a template engine computes what the full one does, and renders nothing', () => {
    const plain = anExternalSecret(withData('password', 'db/password'));
    assert.equal(computeWithoutTemplates({ externalSecret: plain, fetched }).ok, true);
    assert.deepEqual(computeWithoutTemplates({ externalSecret: plain, fetched }), computeInline({ externalSecret: plain, fetched }));
    const found = { data: [], dataFrom: [foundValues({ 'db/a': 'v', 'db/b': 'w' })] };
    const rewritten = anExternalSecret(withFind({ path: 'db/' }, [{ regexp: { source: 'db/(.*)', target: '$1' } }]));
    const r = computeWithoutTemplates({ externalSecret: rewritten, fetched: found });
    assert.equal(r.ok && r.plan.action === 'write' && Object.keys(r.plan.secret.data ?? {}).sort().join(), 'a,b');
    assert.deepEqual(r, computeInline({ externalSecret: rewritten, fetched: found }));
    // A template sent here by mistake is an error of its ExternalSecret, not a render or a crash.
    for (const es of [withTpl('{{ .password }}'), anExternalSecret(withFind({ path: 'db/' }, [{ transform: { template: '{{ .value }}' } }]))]) {
      const r = computeWithoutTemplates({ externalSecret: es, fetched: es.spec.dataFrom ? found : fetched });
      assert.equal(r.ok, false);
      assert.equal((r as { ok: false; error: SyncError }).error.code, 'TemplateEngineUnavailable');
    }
  });
});

describe('computePushEntries (a PushSecret\'s keys)', () => {
  const source = new Map([['a', Buffer.from('va')], ['b', Buffer.from('vb')]]);
  const withTransform = (template: string): PushEntriesInput => ({ data: [], dataToForStore: [{ entry: { storeRef: { name: 'st' }, rewrite: [{ transform: { template } }] }, index: 0 }], source });

  test('a worker expands what the inline expansion does', async () => {
    const input = withTransform('app-{{ .value | upper }}');
    assert.equal(pushNeedsIsolation(input), true);
    const viaWorker = await compute.computePushEntries(input, { namespace: 'ns' });
    const inline = computePushEntries(input, renderKeyTemplate);
    assert.ok(viaWorker.ok && inline.ok);
    const view = (entries: typeof inline.entries) => entries.map((e) => ({ ...e, value: Buffer.from(e.value).toString() }));
    assert.deepEqual(view(viaWorker.entries), view(inline.entries));
    assert.deepEqual(viaWorker.entries.map((e) => [e.data.match.remoteRef.remoteKey, Buffer.from(e.value).toString()]), [['app-A', 'va'], ['app-B', 'vb']]);
  });

  test('without transforms: expanded inline, no template engine needed', async () => {
    const input: PushEntriesInput = { data: [], dataToForStore: [{ entry: { storeRef: { name: 'st' }, rewrite: [{ regexp: { source: '^', target: 'x-' } }] }, index: 0 }], source };
    assert.equal(pushNeedsIsolation(input), false);
    const r = await compute.computePushEntries(input, { namespace: 'ns' });
    assert.ok(r.ok);
    assert.deepEqual(r.entries.map((e) => e.data.match.remoteRef.remoteKey), ['x-a', 'x-b']);
  });

  test('a transform that loops for ever fails its PushSecret with the time budget while the event loop keeps running', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const started = performance.now();
    const r = await compute.computePushEntries(withTransform('{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}{{ .value }}'), { namespace: 'ns' });
    clearInterval(timer);
    const elapsed = performance.now() - started;
    assert.equal(r.ok, false);
    const e = (r as { ok: false; error: SyncError }).error;
    assert.equal(e.code, 'ComputeBudgetExceeded');
    assert.equal(e.message, 'compute budget exceeded: time limit 1500ms (--template-timeout)');
    assert.equal(e.field, 'spec.dataTo[0].rewrite');
    // The render ran elsewhere: the timer fired all along (at least half of its due ticks).
    assert.ok(ticks >= elapsed / 10 / 2, `event loop held: ${ticks} ticks in ${Math.round(elapsed)} ms`);
  });

  test('a template error names the dataTo entry and keeps no value', async () => {
    const r = await compute.computePushEntries(withTransform('{{ fail "boom" }}'), { namespace: 'ns' });
    assert.equal(r.ok, false);
    const e = (r as { ok: false; error: SyncError }).error;
    assert.equal(e.code, 'TemplateFailed');
    assert.match(e.field ?? '', /^spec\.dataTo\[0\]\.rewrite\[0\]/);
    assert.doesNotMatch(e.message, /va|vb/);
  });
});
