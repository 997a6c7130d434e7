// unchangedSinceWritten: after a restart the controller knows only what the Secret itself says.
// A Secret exactly as its ExternalSecret wrote it must count as unchanged (no fresh provider read,
// no write); any hand edit of what the ExternalSecret wrote must count as changed (a repair).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ANNOTATION_DATA_HASH, LABEL_MANAGED } from '../../../src/api/constants.ts';
import type { ExternalSecret } from '../../../src/api/types.generated.ts';
import type { SyncPlan } from '../../../src/sync/desired.ts';
import { computeInline } from '../../../src/compute/task.ts';
import { unchangedSinceWritten, writeRecordKey, type Secret } from '../../../src/sync/secret.ts';
import {
  aSecret, anExternalSecret, asCached, remote, withCreationPolicy, withData, withName, withSecretData, withTargetName, withTemplate,
} from '../../fixtures/builders.ts';

/** The Secret as the controller wrote it and its informer caches it. */
function written(es: ExternalSecret, values: string[], existing?: Secret): Secret {
  const r = computeInline({ externalSecret: es, fetched: { data: values.map((v) => remote(v)), dataFrom: [] }, existing });
  if (!r.ok) assert.fail(`${r.error.code}: ${r.error.message}`);
  assert.equal(r.plan.action, 'write');
  return asCached((r.plan as Extract<SyncPlan, { action: 'write' }>).secret);
}
const b64 = (s: string) => Buffer.from(s).toString('base64');

const owner = anExternalSecret(withData('password', 'db'), withTemplate({ metadata: { labels: { tier: 'db' }, annotations: { team: 'a' } }, data: { password: '{{ .password }}' } }));

describe('unchangedSinceWritten', () => {
  test('Owner: a Secret as written is unchanged; other tools may add labels and annotations', () => {
    const s = written(owner, ['v1']);
    assert.equal(unchangedSinceWritten(s, 'app-db'), true);
    s.metadata.labels = { ...s.metadata.labels, 'argocd.argoproj.io/instance': 'x' };
    s.metadata.annotations = { ...s.metadata.annotations, 'kubectl.kubernetes.io/last-applied-configuration': '{}' };
    assert.equal(unchangedSinceWritten(s, 'app-db'), true);
  });

  test('Owner: hand edits are changes (data value, added key, removed key, type, immutable, our label, our annotation)', () => {
    const edits: Array<[string, (s: Secret) => void]> = [
      ['data value', (s) => { s.data!.password = b64('edited'); }],
      ['added key', (s) => { s.data!.extra = b64('x'); }],
      ['removed key', (s) => { delete s.data!.password; }],
      ['type', (s) => { s.type = 'kubernetes.io/basic-auth'; }],
      ['immutable', (s) => { s.immutable = true; }],
      ['template label', (s) => { s.metadata.labels!.tier = 'web'; }],
      ['template label removed', (s) => { delete s.metadata.labels!.tier; }],
      ['managed label removed', (s) => { delete s.metadata.labels![LABEL_MANAGED]; }],
      ['template annotation', (s) => { s.metadata.annotations!.team = 'b'; }],
      ['data-hash', (s) => { s.metadata.annotations![ANNOTATION_DATA_HASH] = 'x'; }],
      ['write record removed', (s) => { delete s.metadata.annotations![writeRecordKey('app-db')]; }],
      ['write record unreadable', (s) => { s.metadata.annotations![writeRecordKey('app-db')] = '{'; }],
    ];
    for (const [what, edit] of edits) {
      const s = written(owner, ['v1']);
      edit(s);
      assert.equal(unchangedSinceWritten(s, 'app-db'), false, what);
    }
  });

  test('Orphan as Owner; the record of another ExternalSecret does not count', () => {
    const s = written(anExternalSecret(withData('password', 'db'), withCreationPolicy('Orphan')), ['v1']);
    assert.equal(unchangedSinceWritten(s, 'app-db'), true);
    assert.equal(unchangedSinceWritten(s, 'someone-else'), false);
  });

  test('a Secret nobody recorded (hand-made, or written by ESO) is changed', () => {
    assert.equal(unchangedSinceWritten(aSecret(withSecretData({ password: 'v1' })), 'app-db'), false);
  });

  test('Merge: only the keys it wrote count; foreign keys may change; its own keys may not', () => {
    const foreign = aSecret(withTargetNameSecret('shared'), withSecretData({ precious: 'p' }));
    const merger = anExternalSecret(withName('merger'), withTargetName('shared'), withCreationPolicy('Merge'), withData('added', 'r'));
    const s = written(merger, ['x'], foreign);
    assert.equal(unchangedSinceWritten(s, 'merger'), true);
    const foreignEdit = structuredClone(s);
    foreignEdit.data!.precious = b64('changed by its owner');
    foreignEdit.data!.another = b64('new');
    assert.equal(unchangedSinceWritten(foreignEdit, 'merger'), true);
    const ourEdit = structuredClone(s);
    ourEdit.data!.added = b64('edited');
    assert.equal(unchangedSinceWritten(ourEdit, 'merger'), false);
    const ourRemoved = structuredClone(s);
    delete ourRemoved.data!.added;
    assert.equal(unchangedSinceWritten(ourRemoved, 'merger'), false);
  });
});

function withTargetNameSecret(name: string) {
  return (s: Secret) => { s.metadata.name = name; };
}
