// The wire format between the controller and a compute worker, through a real structured clone:
// every FetchedValue shape, templateFrom sources, plans and SyncErrors come back as the domain
// types (NOT_FOUND by identity, SyncError as a class with code, message and field).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NOT_FOUND, type DesiredSecretResult } from '../../../src/sync/desired.ts';
import { SyncError, SyncErrorCode, syncErrors } from '../../../src/sync/errors.ts';
import { decodeInput, decodeResult, encodeInput, encodeResult, type ComputeInput, type WireResult } from '../../../src/compute/wire.ts';
import { aSecret, anExternalSecret, found, remote, withData, withFind, withSecretData, withTemplate } from '../../fixtures/builders.ts';

const text = (b: Uint8Array | undefined) => Buffer.from(b!).toString('utf8');

describe('wire format', () => {
  test('every fetched value shape survives a structured clone', () => {
    // A Buffer view into a large shared buffer: only its own bytes may cross.
    const big = Buffer.alloc(64 * 1024, 'x');
    const view = big.subarray(10, 15);
    view.write('hello');
    const input: ComputeInput = {
      externalSecret: anExternalSecret(withData('a', 'k1'), withData('b', 'k2'), withFind({ path: 'p' }), withTemplate({ data: { x: '{{ .a }}' } })),
      fetched: { data: [{ value: view }, NOT_FOUND], dataFrom: [found({ one: '1', two: '2' }), NOT_FOUND, remote('{"j":1}')] },
      existing: aSecret(withSecretData({ old: 'v' })),
      sources: { configMaps: new Map([['cm', { t: '{{ .a }}' }]]), secrets: new Map([['s', { t: new TextEncoder().encode('{{ .b }}') }]]) },
      renderOptions: { leftDelim: '[[', rightDelim: ']]' },
    };
    const wire = encodeInput(input);
    const bytes = (wire.data[0] as { bytes: Uint8Array }).bytes;
    assert.equal(bytes.buffer.byteLength, 5, 'a compact copy, not the 64 KiB buffer behind the view');
    const back = decodeInput(structuredClone(wire));
    assert.equal(text((back.fetched.data[0] as { value: Uint8Array }).value), 'hello');
    assert.equal(back.fetched.data[1], NOT_FOUND, 'NOT_FOUND by identity');
    const map = back.fetched.dataFrom[0];
    assert.ok(map instanceof Map);
    assert.deepEqual([...map].map(([k, v]) => [k, text(v.value)]), [['one', '1'], ['two', '2']]);
    assert.equal(back.fetched.dataFrom[1], NOT_FOUND);
    assert.equal(text((back.fetched.dataFrom[2] as { value: Uint8Array }).value), '{"j":1}');
    assert.deepEqual(back.existing, input.existing);
    assert.deepEqual(back.externalSecret, input.externalSecret);
    assert.deepEqual(back.sources?.configMaps?.get('cm'), { t: '{{ .a }}' });
    assert.equal(text(back.sources?.secrets?.get('s')?.['t']), '{{ .b }}');
    assert.deepEqual(back.renderOptions, { leftDelim: '[[', rightDelim: ']]' });
  });

  test('a map in spec.data is refused (the controller never produces one)', () => {
    const wire = encodeInput({ externalSecret: anExternalSecret(), fetched: { data: [found({ a: '1' })] as never, dataFrom: [] } });
    assert.throws(() => decodeInput(wire), /cannot be a map/);
  });

  test('a SyncError comes back as a SyncError with its code, message and field', () => {
    for (const error of [
      syncErrors.computeBudgetExceeded('spec.target.template', 'time limit 2s (--template-timeout)'),
      syncErrors.secretTooLarge('s', 2_000_000),
      syncErrors.fetchedMismatch('no field'),
    ]) {
      const back = decodeResult(structuredClone(encodeResult({ ok: false, error })));
      assert.equal(back.ok, false);
      const e = (back as { ok: false; error: SyncError }).error;
      assert.ok(e instanceof SyncError);
      assert.equal(e.code, error.code);
      assert.equal(e.message, error.message);
      assert.equal(e.field, error.field);
      assert.equal(e.reason, 'SecretSyncedError');
    }
  });

  test('a plan comes back whole', () => {
    const plan: DesiredSecretResult = {
      ok: true,
      plan: { action: 'none', reason: 'CreationPolicyNone', skipped: [{ field: 'spec.data[0]', message: 'm' }], condition: { type: 'Ready', status: 'True', reason: 'SecretSynced', message: 'secret synced' } },
    };
    assert.deepEqual(decodeResult(structuredClone(encodeResult(plan))), plan);
  });

  test('an unknown error code is a bug, not a tenant error', () => {
    const w: WireResult = { ok: false, error: { code: 'NoSuchCode' as SyncErrorCode, message: 'm', field: undefined } };
    assert.throws(() => decodeResult(w), /unknown error code/);
    assert.ok(Object.values(SyncErrorCode).includes('ComputeBudgetExceeded'));
  });
});
