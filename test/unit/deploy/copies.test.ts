// The Helm chart and the OLM bundle carry copies of deploy/crds and of the controller's ClusterRole
// (scripts/deploy-copies.ts); every place that names the release version names package.json's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { generatedFiles } from '../../../src/api/generate.ts';
import { withDeployCopies } from '../../../scripts/deploy-copies.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const read = (p: string) => readFileSync(join(root, p), 'utf8');
const version = (JSON.parse(read('package.json')) as { version: string }).version;

test('the chart and the bundle hold current copies of the CRDs and the controller ClusterRole (run: npm run generate)', () => {
  const generated = generatedFiles();
  const copies = [...withDeployCopies(generated, root)].filter(([path]) => !generated.has(path));
  assert.ok(copies.length >= 7, 'three CRDs twice and the ClusterRole');
  const stale = copies.filter(([path, content]) => {
    try {
      return read(path) !== content;
    } catch {
      return true;
    }
  });
  assert.deepEqual(stale.map(([p]) => p), []);
});

test("deploy/default, the chart and the bundle name package.json's version", () => {
  const kustomization = parse(read('deploy/default/kustomization.yaml'));
  assert.equal(kustomization.images[0].newTag, version);
  assert.equal(kustomization.labels[0].pairs['app.kubernetes.io/version'], version);
  const chart = parse(read('deploy/charts/tessera/Chart.yaml'));
  assert.deepEqual([chart.version, chart.appVersion], [version, version]);
});
