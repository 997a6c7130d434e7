// The error catalog is API: every code and reason is documented in docs/errors.md.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ControllerErrorCode, StoreReason } from '../../../src/controllers/errors.ts';
import { ConditionReason, SyncErrorCode } from '../../../src/sync/errors.ts';

const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

it('docs/errors.md documents every condition reason and error code', () => {
  const all = [...Object.values(ControllerErrorCode), ...Object.values(StoreReason), ...Object.values(SyncErrorCode), ...Object.values(ConditionReason)];
  assert.deepEqual(all.filter((c) => !doc.includes(`\`${c}\``)), []);
});
