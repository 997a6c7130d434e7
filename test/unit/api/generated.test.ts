// Staleness check: the committed CRDs and types must equal what the schema source generates.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { generatedFiles } from '../../../src/api/generate.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');

test('generated files are up to date (run: node scripts/generate.ts)', async () => {
  const stale: string[] = [];
  for (const [path, content] of generatedFiles()) {
    const current = await readFile(join(root, path), 'utf8').catch(() => undefined);
    if (current !== content) stale.push(path);
  }
  assert.deepEqual(stale, [], `stale generated files: ${stale.join(', ')}; run node scripts/generate.ts`);
});

test('generation is deterministic', () => {
  assert.deepEqual([...generatedFiles()], [...generatedFiles()]);
});

test('CRDs have ESO names, short names, categories and printer columns', () => {
  const files = generatedFiles();
  const es = parse(files.get('deploy/crds/external-secrets.io_externalsecrets.yaml')!);
  assert.equal(es.metadata.name, 'externalsecrets.external-secrets.io');
  assert.deepEqual(es.spec.names.shortNames, ['es']);
  assert.deepEqual(es.spec.names.categories, ['external-secrets']);
  assert.equal(es.spec.scope, 'Namespaced');
  assert.deepEqual(es.spec.versions.map((v: any) => [v.name, v.served, v.storage]), [['v1', true, true], ['v1beta1', true, false]]);
  assert.deepEqual(es.spec.versions[0].additionalPrinterColumns.map((c: any) => c.name),
    ['StoreType', 'Store', 'Refresh Interval', 'Status', 'Ready', 'Last Sync']);
  // Columns as ESO 2.9 declares them (config/crds/bases), on both served versions.
  for (const v of es.spec.versions) {
    assert.deepEqual(v.additionalPrinterColumns.at(-1), { name: 'Last Sync', type: 'date', jsonPath: '.status.refreshTime' });
  }
  assert.equal(es.spec.conversion.strategy, 'None');
  const ss = parse(files.get('deploy/crds/external-secrets.io_secretstores.yaml')!);
  assert.deepEqual(ss.spec.names.shortNames, ['ss']);
  const css = parse(files.get('deploy/crds/external-secrets.io_clustersecretstores.yaml')!);
  assert.deepEqual(css.spec.names.shortNames, ['css']);
  assert.equal(css.spec.scope, 'Cluster');
  assert.deepEqual(css.spec.versions[0].additionalPrinterColumns.map((c: any) => c.name), ['AGE', 'Status', 'Capabilities', 'Ready']);
});

test('CRD YAML uses no anchors or aliases', () => {
  for (const [path, content] of generatedFiles()) {
    if (!path.endsWith('.yaml')) continue;
    assert.doesNotMatch(content, /(^|\s)[&*][a-z]\d+\b/m, path);
  }
});

/** Walks every schema node; a structural schema gives every node a type (or preserve-unknown). */
function* nodes(schema: any, path: string): Generator<[string, any]> {
  yield [path, schema];
  for (const [k, v] of Object.entries(schema.properties ?? {})) yield* nodes(v, `${path}.${k}`);
  if (schema.items) yield* nodes(schema.items, `${path}[]`);
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') yield* nodes(schema.additionalProperties, `${path}{}`);
}

test('schemas are structural: every node has a type', () => {
  for (const [path, content] of generatedFiles()) {
    if (!path.includes('_')) continue;
    const crd = parse(content);
    for (const version of crd.spec.versions) {
      for (const [at, node] of nodes(version.schema.openAPIV3Schema, version.name)) {
        // int-or-string is the one typeless form the apiserver accepts (with exactly this anyOf).
        if (node['x-kubernetes-int-or-string']) {
          assert.deepEqual(node.anyOf, [{ type: 'integer' }, { type: 'string' }], `${path} ${at}`);
          continue;
        }
        assert.ok(node.type || node['x-kubernetes-preserve-unknown-fields'], `${path} ${at} has no type`);
      }
    }
  }
});

test('every CEL rule over a list is bounded', () => {
  const es = parse(generatedFiles().get('deploy/crds/external-secrets.io_externalsecrets.yaml')!);
  for (const version of es.spec.versions) {
    const spec = version.schema.openAPIV3Schema.properties.spec;
    assert.ok(spec.properties.data.maxItems > 0, 'spec.data needs maxItems for the duplicate-key rule');
    assert.ok(spec.properties.data.items.properties.secretKey.maxLength > 0);
  }
});
