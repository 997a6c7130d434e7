// Switching from ESO 2.9 to Tessera and back (ADR 0004, "Switch-over from ESO"): a Secret ESO
// wrote and whose content is what Tessera would write is up to date, so the switch-over writes no
// Secret; a Secret Tessera writes carries the data-hash ESO computes, so ESO takes it as valid.
// Ownership is not loosened: ESO's hash grants nothing ADR 0004 refuses.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ANNOTATION_DATA_HASH, LABEL_CREATED_BY, LABEL_MANAGED } from '../../../src/api/constants.ts';
import type { ExternalSecret } from '../../../src/api/types.generated.ts';
import { desiredSecret, type DesiredSecretInput, type FetchedValues, type SyncPlan } from '../../../src/sync/desired.ts';
import { esoDataHash } from '../../../src/sync/eso-hash.ts';
import {
  decodeSecretData, esoDataHashMatches, readWriteRecord, recordedContentMatches, writeRecordKey, type Secret,
} from '../../../src/sync/secret.ts';
import {
  aSecret, anExternalSecret, asCached, remote, textData, withAnnotations, withCreationPolicy, withData, withLabels, withName,
  withManagedFields, withSecretData, withTarget, withTemplate, withUid,
} from '../../fixtures/builders.ts';
import { esoWrittenSecret } from '../../fixtures/eso.ts';

type Written = Extract<SyncPlan, { action: 'write' }>;
function write(es: ExternalSecret, fetched: Partial<FetchedValues>, existing?: Secret, extra: Partial<DesiredSecretInput> = {}): Written {
  const r = desiredSecret({ externalSecret: es, fetched: { data: [], dataFrom: [], ...fetched }, existing, ...extra });
  if (!r.ok) assert.fail(`unexpected error ${r.error.code}: ${r.error.message}`);
  assert.equal(r.plan.action, 'write');
  return r.plan as Written;
}
function refusal(es: ExternalSecret, fetched: Partial<FetchedValues>, existing: Secret): string {
  const r = desiredSecret({ externalSecret: es, fetched: { data: [], dataFrom: [], ...fetched }, existing });
  assert.equal(r.ok, false, 'expected a refusal');
  return (r as { ok: false; error: { code: string } }).error.code;
}
const fromEso = (es: ExternalSecret, data: Record<string, string>, extra: Partial<Parameters<typeof esoWrittenSecret>[1]> = {}) =>
  asCached(esoWrittenSecret(es, { data, ...extra }), '7');
const two = { data: [remote('v1'), remote('v2')] };
const withTwo = [withData('one', 'remote/one'), withData('two', 'remote/two')];
/** ESO's isSecretValid: the managed label and a data-hash that matches the data. */
const esoAccepts = (s: Secret) => s.metadata.labels?.[LABEL_MANAGED] === 'true' && esoDataHashMatches(s);

describe('a Secret ESO wrote is up to date when its content is unchanged', () => {
  const cases: Array<[string, ExternalSecret]> = [
    ['Owner, with the ExternalSecret\'s labels and annotations copied (last-applied too)',
      anExternalSecret(...withTwo, withLabels({ team: 'a' }), withAnnotations({ note: 'n', 'kubectl.kubernetes.io/last-applied-configuration': '{"x":1}' }))],
    ['Orphan (ESO sets no created-by label)', anExternalSecret(...withTwo, withCreationPolicy('Orphan'))],
    ['Owner with target.name and immutable', anExternalSecret(...withTwo, withTarget({ name: 'renamed', immutable: true }))],
  ];
  for (const [name, es] of cases) {
    test(name, () => {
      const eso = fromEso(es, { one: 'v1', two: 'v2' });
      assert.ok(esoAccepts(eso), 'the fixture is a Secret ESO takes as valid');
      const plan = write(es, two, eso);
      assert.equal(plan.upToDate, true);
      assert.equal(plan.hash, eso.metadata.annotations?.[ANNOTATION_DATA_HASH], 'the same data-hash as ESO');
      assert.equal(readWriteRecord(eso, es.metadata.name!), undefined, 'no record is needed');
    });
  }

  test('a template: type, template labels and annotations, rendered data', () => {
    const es = anExternalSecret(...withTwo, withTemplate({ type: 'kubernetes.io/basic-auth', metadata: { labels: { tier: 'db' }, annotations: { by: 'template' } }, data: { username: '{{ .one }}', password: '{{ .two }}' } }));
    const render = () => ({ data: new Map([['username', new TextEncoder().encode('v1')], ['password', new TextEncoder().encode('v2')]]), labels: { tier: 'db' }, annotations: { by: 'template' } });
    const eso = fromEso(es, { username: 'v1', password: 'v2' });
    assert.equal(eso.type, 'kubernetes.io/basic-auth');
    assert.equal(write(es, two, eso, { renderTemplate: render }).upToDate, true);
  });

  test('Merge into a Secret ESO marked managed: ESO\'s data-hash over all keys is kept', () => {
    const es = anExternalSecret(withName('merger'), withTarget({ name: 'shared', creationPolicy: 'Merge' }), ...withTwo);
    const before = aSecret(withSecretData({ precious: 'p' }));
    before.metadata.name = 'shared';
    const eso = fromEso(es, { one: 'v1', two: 'v2' }, { existing: before });
    assert.deepEqual(textData(eso), { precious: 'p', one: 'v1', two: 'v2' });
    const plan = write(es, two, eso);
    assert.equal(plan.upToDate, true);
    // A changed value: the write keeps ESO's data-hash true for the whole data, adds no created-by.
    const changed = write(es, { data: [remote('v1'), remote('new')] }, eso);
    assert.equal(changed.upToDate, false);
    assert.equal(changed.secret.metadata.annotations?.[ANNOTATION_DATA_HASH], esoDataHash(decodeSecretData(changed.secret)));
    assert.equal(changed.secret.metadata.labels?.[LABEL_CREATED_BY], undefined);
    assert.deepEqual(textData(changed.secret), { precious: 'p', one: 'v1', two: 'new' });
  });
});

describe('a Secret read from the apiserver with ESO\'s managed fields', () => {
  test('Merge: ESO\'s bookkeeping (managed label, data-hash) is not taken for keys to remove', () => {
    const es = anExternalSecret(withName('merger'), withTarget({ name: 'app-db', creationPolicy: 'Merge' }), ...withTwo, withAnnotations({ gone: 'x' }));
    const eso = esoWrittenSecret(anExternalSecret(withName('merger'), withTarget({ name: 'app-db', creationPolicy: 'Merge' }), ...withTwo), {
      data: { one: 'v1', two: 'v2' }, existing: aSecret(withSecretData({ precious: 'p' })),
    });
    eso.metadata.annotations!['old-note'] = 'o';
    withManagedFields('merger', { data: ['one', 'two'], labels: [LABEL_MANAGED], annotations: [ANNOTATION_DATA_HASH, 'old-note'] })(eso);
    const plan = write(es, two, eso);
    assert.equal(plan.secret.metadata.labels?.[LABEL_MANAGED], 'true', 'ESO\'s managed label stays');
    assert.equal(plan.secret.metadata.annotations?.['old-note'], undefined, 'what ESO wrote for the ExternalSecret and it no longer asks for goes');
    assert.equal(plan.secret.metadata.annotations?.[ANNOTATION_DATA_HASH], esoDataHash(decodeSecretData(plan.secret)));
  });
});

describe('what is not up to date is written, with ESO\'s hash and Tessera\'s record', () => {
  const es = anExternalSecret(...withTwo, withCreationPolicy('Orphan'));

  test('a changed remote value', () => {
    const plan = write(es, { data: [remote('v1'), remote('changed')] }, fromEso(es, { one: 'v1', two: 'v2' }));
    assert.equal(plan.upToDate, false);
    assert.ok(esoAccepts(plan.secret), 'ESO takes the new Secret as valid');
    assert.equal(plan.secret.metadata.labels?.[LABEL_CREATED_BY]?.length, 56, 'Orphan gets its creator recorded with the first write');
    assert.ok(readWriteRecord(plan.secret, 'app-db')?.hash, 'a write record with its hash');
    assert.equal(write(es, { data: [remote('v1'), remote('changed')] }, asCached(plan.secret, '8')).upToDate, true, 'then up to date');
  });

  test('data edited by hand after ESO wrote it (its data-hash no longer matches)', () => {
    const edited = fromEso(es, { one: 'v1', two: 'v2' });
    edited.metadata.annotations![ANNOTATION_DATA_HASH] = esoDataHash(new Map([['one', new Uint8Array([1])]]));
    assert.equal(write(es, two, edited).upToDate, false);
  });

  test('a label the ExternalSecret sets is missing, an extra data key, immutability asked for later', () => {
    const labelled = anExternalSecret(...withTwo, withLabels({ team: 'a' }));
    const eso = fromEso(labelled, { one: 'v1', two: 'v2' });
    const noLabel = structuredClone(eso); delete noLabel.metadata.labels!['team'];
    const extraKey = fromEso(labelled, { one: 'v1', two: 'v2', three: 'v3' });
    for (const existing of [noLabel, extraKey]) assert.equal(write(labelled, two, existing).upToDate, false);
    const nowImmutable = anExternalSecret(...withTwo, withLabels({ team: 'a' }), withTarget({ immutable: true }));
    assert.equal(write(nowImmutable, two, eso).upToDate, false);
  });

  test('an Owner Secret whose owner reference is gone', () => {
    const owner = anExternalSecret(...withTwo);
    const eso = fromEso(owner, { one: 'v1', two: 'v2' });
    delete eso.metadata.ownerReferences;
    assert.equal(write(owner, two, eso).upToDate, false);
  });
});

describe('ESO\'s hash grants nothing ADR 0004 refuses', () => {
  test('a Secret ESO wrote for another ExternalSecret (Owner) is refused', () => {
    const other = anExternalSecret(withName('other'), withUid('uid-other'), withTarget({ name: 'app-db' }), ...withTwo);
    const eso = fromEso(other, { one: 'v1', two: 'v2' });
    assert.equal(refusal(anExternalSecret(...withTwo), two, eso), 'SecretOwnedByOther');
    assert.equal(refusal(anExternalSecret(...withTwo, withCreationPolicy('Orphan')), two, eso), 'SecretOwnedByOther');
  });

  test('an unmanaged Secret with a matching data-hash is still not taken over', () => {
    const es = anExternalSecret(...withTwo, withCreationPolicy('Orphan'));
    const eso = fromEso(es, { one: 'v1', two: 'v2' });
    delete eso.metadata.labels![LABEL_MANAGED];
    assert.equal(refusal(es, two, eso), 'SecretNotManaged');
  });

  test('Merge into a foreign Secret adds no data-hash and no managed label', () => {
    const es = anExternalSecret(withTarget({ name: 'app-db', creationPolicy: 'Merge' }), ...withTwo);
    const plan = write(es, two, asCached(aSecret(withSecretData({ precious: 'p' }))));
    assert.equal(plan.secret.metadata.annotations?.[ANNOTATION_DATA_HASH], undefined);
    assert.equal(plan.secret.metadata.labels?.[LABEL_MANAGED], undefined);
  });

  test('a record is unreadable: written again (a hand-edited record is not trusted)', () => {
    const es = anExternalSecret(...withTwo);
    const eso = fromEso(es, { one: 'v1', two: 'v2' });
    eso.metadata.annotations![writeRecordKey('app-db')] = 'not json';
    assert.equal(write(es, two, eso).upToDate, false);
  });
});

describe('switch back: what Tessera writes, ESO takes as valid', () => {
  for (const policy of ['Owner', 'Orphan'] as const) {
    test(policy, () => {
      const es = anExternalSecret(...withTwo, withCreationPolicy(policy), withLabels({ team: 'a' }));
      const plan = write(es, two);
      const written = asCached(plan.secret);
      assert.ok(esoAccepts(written));
      assert.equal(written.metadata.annotations?.[ANNOTATION_DATA_HASH], esoDataHash(decodeSecretData(written)));
      // ESO's own construction of the same Secret has the same data-hash.
      assert.equal(esoWrittenSecret(es, { data: { one: 'v1', two: 'v2' } }).metadata.annotations?.[ANNOTATION_DATA_HASH], plan.hash);
      // Tessera's record holds what ESO's hash does not cover: a label edit is seen.
      const record = readWriteRecord(written, 'app-db')!;
      assert.equal(recordedContentMatches(written, record), true);
      const relabelled = structuredClone(written); relabelled.metadata.labels!['team'] = 'b';
      assert.equal(recordedContentMatches(relabelled, record), false);
      assert.equal(esoDataHashMatches(relabelled), true, 'ESO\'s hash covers the data only');
    });
  }
});
