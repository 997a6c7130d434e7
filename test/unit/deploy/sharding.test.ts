// --shards through the Helm chart and the OLM bundle, checked without a cluster or a tool: the
// chart's values schema bounds sharding.shards as `tessera run` does, and the bundle's CSV grants
// deploy/rbac/sharding.yaml's rules and reads --shards from a variable a Subscription can set.
// Rendering with Helm itself is in test/integration/helm.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse, parseAllDocuments } from 'yaml';
import { parseFlags } from '../../../src/cli/flags.ts';
import { runFlags } from '../../../src/cli/run.ts';
import { esoCompatibilityFlags } from '../../../src/cli/eso-flags.ts';
import { csvPath, shardsVariable } from '../../../scripts/olm-bundle.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const read = (p: string) => readFileSync(join(root, p), 'utf8');

test('the chart: sharding.shards is off by default and the schema takes 0 to 256 shards, whole numbers only', () => {
  const defaults = parse(read('deploy/charts/tessera/values.yaml')) as { sharding: { shards: number } };
  assert.equal(defaults.sharding.shards, 0);
  const validate = new Ajv({ allErrors: true, allowUnionTypes: true }).compile(JSON.parse(read('deploy/charts/tessera/values.schema.json')) as object);
  assert.ok(validate(defaults), JSON.stringify(validate.errors));
  const withShards = (shards: unknown) => validate({ ...defaults, sharding: { shards } });
  for (const ok of [0, 1, 8, 256]) assert.ok(withShards(ok), `${ok} shards: ${JSON.stringify(validate.errors)}`);
  for (const bad of [300, 257, -1, 2.5, '8', null]) {
    assert.equal(withShards(bad), false, `${JSON.stringify(bad)} shards refused`);
    assert.ok(validate.errors!.some((e) => e.instancePath === '/sharding/shards'), 'the error names sharding.shards');
  }
});

test("the OLM bundle: the CSV's namespaced permissions hold deploy/rbac/sharding.yaml's rules", () => {
  const csv = parse(read(csvPath));
  const sharding = parseAllDocuments(read('deploy/rbac/sharding.yaml')).map((d) => d.toJS()).find((o) => o.kind === 'Role');
  const permissions = csv.spec.install.spec.permissions as Array<{ serviceAccountName: string; rules: unknown[] }>;
  assert.equal(permissions.length, 1);
  for (const rule of sharding.rules) assert.ok(permissions[0]!.rules.some((r) => JSON.stringify(r) === JSON.stringify(rule)), `rule ${JSON.stringify(rule)}`);
  // Only in the operator namespace: no cluster-wide Lease rights.
  const clusterRules = csv.spec.install.spec.clusterPermissions.flatMap((p: { rules: Array<{ resources: string[] }> }) => p.rules);
  assert.ok(!clusterRules.some((r: { resources: string[] }) => r.resources.includes('leases')));
});

test("the OLM bundle: --shards comes from a variable that is 0 (off) as shipped and a Subscription's config.env turns on", () => {
  const csv = parse(read(csvPath));
  const container = csv.spec.install.spec.deployments[0].spec.template.spec.containers[0] as { args: string[]; env: Array<{ name: string; value?: string }> };
  assert.ok(container.args.includes(`--shards=$(${shardsVariable})`));
  assert.equal(container.env.find((e) => e.name === shardsVariable)?.value, '0');
  // What the kubelet passes: $(NAME) replaced by the container's variable. OLM replaces a variable
  // of the same name with a Subscription's spec.config.env entry.
  const shardsWith = (env: Array<{ name: string; value?: string }>) => {
    const values = new Map(env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
    const args = container.args.slice(1).map((a) => a.replace(/\$\((\w+)\)/g, (whole, name: string) => values.get(name) ?? (name === 'WATCH_NAMESPACE' ? '' : whole)));
    return parseFlags([...runFlags, ...esoCompatibilityFlags], args).values.shards;
  };
  assert.equal(shardsWith(container.env), 0);
  const subscribed = container.env.map((e) => (e.name === shardsVariable ? { name: shardsVariable, value: '8' } : e));
  assert.equal(shardsWith(subscribed), 8);
});
