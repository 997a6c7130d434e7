// The bad-input corpus (test/integration/security/corpus.ts) checked without a cluster: it is big
// enough, its names are usable, and the offline validator (`tessera lint`) agrees with each case's
// admission outcome, so `lint` refuses what the apiserver refuses and names the same field.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { validate } from '../../../src/api/validate.ts';
import { DNS1123_SUBDOMAIN } from '../../../src/api/schema.ts';
import { CORPUS, mutate } from '../../integration/security/corpus.ts';

describe('bad-input corpus', () => {
  it('has at least 200 cases with unique DNS-safe names, both outcomes and every kind', () => {
    assert.ok(CORPUS.length >= 200, `${CORPUS.length} cases`);
    const names = CORPUS.map((c) => c.name);
    assert.equal(new Set(names).size, names.length, 'duplicate case names');
    for (const n of names) assert.match(n, new RegExp(DNS1123_SUBDOMAIN), n);
    for (const n of names) assert.ok(n.length <= 50, `${n}: too long for a prefixed name`);
    const admission = CORPUS.filter((c) => 'admission' in c.expect).length;
    assert.ok(admission >= 100 && CORPUS.length - admission >= 80, `${admission} admission, ${CORPUS.length - admission} status cases`);
    for (const kind of ['ExternalSecret', 'SecretStore', 'ClusterSecretStore']) assert.ok(CORPUS.some((c) => c.kind === kind), kind);
    for (const v of ['external-secrets.io/v1', 'external-secrets.io/v1beta1']) assert.ok(CORPUS.some((c) => c.object.apiVersion === v), v);
  });

  for (const c of CORPUS) {
    if (c.onlyServer) continue;
    it(`${c.name}: offline validation agrees`, () => {
      const issues = validate(c.kind, c.object, { unknownFields: false });
      if ('admission' in c.expect) {
        const field = c.expect.admission;
        assert.ok(issues.length > 0, `${c.about}: accepted offline`);
        assert.ok(issues.some((i) => i.path === field || i.path.startsWith(`${field}.`) || i.path.startsWith(`${field}[`)), `${c.about}: expected ${field}, got ${JSON.stringify(issues)}`);
      } else {
        assert.deepEqual(issues, [], c.about);
      }
    });
  }

  it('mutate sets, adds and deletes nested fields without touching the base', () => {
    const base = { spec: { data: [{ a: 1 }, { a: 2 }] } };
    assert.deepEqual(mutate(base, 'spec.data[1].a', 3), { spec: { data: [{ a: 1 }, { a: 3 }] } });
    assert.deepEqual(mutate(base, 'spec.data[0]', undefined), { spec: { data: [{ a: 2 }] } });
    assert.deepEqual(mutate(base, 'spec.target.name', 'x'), { spec: { data: [{ a: 1 }, { a: 2 }], target: { name: 'x' } } });
    assert.deepEqual(base, { spec: { data: [{ a: 1 }, { a: 2 }] } });
  });
});
