// The generators.external-secrets.io CRDs: ESO 2.9's names, group, version, scope and categories,
// and offline validation of generator objects at their own version.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crdFor } from '../../../src/api/crds.ts';
import { GENERATOR_KINDS } from '../../../src/api/constants.ts';
import { validate } from '../../../src/api/validate.ts';

test('every generator kind, ClusterGenerator and GeneratorState: v1alpha1 only, ESO\'s plural, scope and categories', () => {
  for (const kind of [...GENERATOR_KINDS, 'ClusterGenerator', 'GeneratorState'] as const) {
    const crd = crdFor(kind) as any;
    assert.equal(crd.spec.group, 'generators.external-secrets.io');
    assert.equal(crd.metadata.name, `${kind.toLowerCase()}s.generators.external-secrets.io`);
    assert.deepEqual(crd.spec.names.categories, ['external-secrets', 'external-secrets-generators']);
    assert.deepEqual(crd.spec.versions.map((v: any) => [v.name, v.served, v.storage]), [['v1alpha1', true, true]]);
    assert.equal(crd.spec.scope, kind === 'ClusterGenerator' ? 'Cluster' : 'Namespaced');
  }
  assert.deepEqual((crdFor('GeneratorState') as any).spec.names.shortNames, ['gs']);
  assert.deepEqual((crdFor('GeneratorState') as any).spec.versions[0].additionalPrinterColumns.map((c: any) => c.name), ['GC Deadline', 'Age']);
  assert.equal((crdFor('Password') as any).spec.versions[0].additionalPrinterColumns, undefined);
});

const gen = (kind: string, spec: unknown) => ({ apiVersion: 'generators.external-secrets.io/v1alpha1', kind, metadata: { name: 'g' }, spec });

test('offline validation: ESO\'s docs objects pass, bounds and enums are refused by field', () => {
  assert.deepEqual(validate('Password', gen('Password', { length: 42, digits: 5, symbols: 5, symbolCharacters: '-_$@', noUpper: false, allowRepeat: true })), []);
  assert.deepEqual(validate('UUID', gen('UUID', {})), []);
  assert.deepEqual(validate('GCRAccessToken', gen('GCRAccessToken', { projectID: 'p', auth: { workloadIdentity: { clusterLocation: 'l' } } })), []);
  assert.deepEqual(validate('ClusterGenerator', gen('ClusterGenerator', { kind: 'Password', generator: { passwordSpec: { length: 12 } } })), []);
  assert.match(JSON.stringify(validate('SSHKey', gen('SSHKey', { keyType: 'dsa' }))), /spec\.keyType/);
  assert.match(JSON.stringify(validate('ClusterGenerator', gen('ClusterGenerator', { kind: 'Password', generator: { passwordSpec: {}, uuidSpec: {} } }))), /spec\.generator/);
  assert.match(JSON.stringify(validate('Password', { ...gen('Password', {}), apiVersion: 'external-secrets.io/v1' })), /supported values: \\"generators\.external-secrets\.io\/v1alpha1\\"/);
});
