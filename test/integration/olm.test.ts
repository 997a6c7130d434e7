// The OLM bundle (deploy/olm) checked by operator-framework's own validators, built from the Go
// module proxy (test/peers/go/olm-validate): what `operator-sdk bundle validate` runs, with the
// OperatorHub and good-practices suites. A bundle with a fault must fail it, so a clean run means
// something.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { allCrds } from '../../src/api/crds.ts';
import { repoRoot } from '../peers/index.ts';
import { runTool } from '../peers/tools.ts';
import { packageVersion } from './deploy-install.ts';

interface Finding {
  level: 'error' | 'warning';
  validator: string;
  type: string;
  detail: string;
}

const bundle = path.join(repoRoot, 'deploy/olm');
const findings = (out: string): Finding[] => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Finding);
const csv = () => parse(readFileSync(path.join(bundle, 'manifests/tessera.clusterserviceversion.yaml'), 'utf8'));

describe('OLM bundle', () => {
  it('passes the bundle, OperatorHub and good-practices validators without an error or a warning', async () => {
    const out = await runTool('olm-validate', [bundle, '1.37']);
    assert.deepEqual(findings(out), []);
  });

  it('a bundle whose CSV owns a CRD it does not ship fails validation', async () => {
    const broken = mkdtempSync(path.join(os.tmpdir(), 'tessera-olm-'));
    try {
      cpSync(bundle, broken, { recursive: true });
      rmSync(path.join(broken, 'manifests/external-secrets.io_secretstores.yaml'));
      await assert.rejects(runTool('olm-validate', [broken, '1.37']), (e: Error) => /"level":"error"/.test(e.message) && /SecretStore/.test(e.message));
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });

  it('installs in AllNamespaces and OwnNamespace modes, at the package version, with the shipped RBAC and CRDs', () => {
    const c = csv();
    assert.equal(c.spec.version, packageVersion);
    assert.deepEqual(
      c.spec.installModes.filter((m: { supported: boolean }) => m.supported).map((m: { type: string }) => m.type).sort(),
      ['AllNamespaces', 'OwnNamespace'],
    );
    const shipped = parse(readFileSync(path.join(repoRoot, 'deploy/rbac/clusterrole.yaml'), 'utf8'));
    assert.deepEqual(c.spec.install.spec.clusterPermissions[0].rules, shipped.rules);
    const owned = c.spec.customresourcedefinitions.owned.map((o: { name: string }) => o.name).sort();
    // Every CRD the schema source generates.
    assert.deepEqual(owned, allCrds().map(({ crd }) => (crd as { metadata: { name: string } }).metadata.name).sort());
    // OwnNamespace: OLM's target namespace reaches --namespace.
    const container = c.spec.install.spec.deployments[0].spec.template.spec.containers[0];
    assert.ok(container.args.includes('--namespace=$(WATCH_NAMESPACE)'));
    assert.equal(container.env.find((e: { name: string }) => e.name === 'WATCH_NAMESPACE').valueFrom.fieldRef.fieldPath, "metadata.annotations['olm.targetNamespaces']");
    assert.equal(container.image, `localhost/tessera:${packageVersion}`);
    // --shards, off as shipped, with the Lease rules it needs granted in the operator namespace.
    assert.ok(container.args.includes('--shards=$(TESSERA_SHARDS)'));
    assert.equal(container.env.find((e: { name: string }) => e.name === 'TESSERA_SHARDS').value, '0');
    const sharding = parseAllDocuments(readFileSync(path.join(repoRoot, 'deploy/rbac/sharding.yaml'), 'utf8')).map((d) => d.toJS()).find((o) => o.kind === 'Role');
    assert.ok(sharding.rules.every((rule: unknown) => c.spec.install.spec.permissions[0].rules.some((r: unknown) => JSON.stringify(r) === JSON.stringify(rule))));
    const annotations = parse(readFileSync(path.join(bundle, 'metadata/annotations.yaml'), 'utf8')).annotations;
    assert.equal(annotations['operators.operatorframework.io.bundle.package.v1'], 'tessera');
  });
});
