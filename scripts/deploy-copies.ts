// The Helm chart and the OLM bundle ship some of deploy/ as files of their own (a chart repository
// or a bundle image carries no file from outside its directory): the CRDs, and for the chart the
// controller's ClusterRole. scripts/generate.ts writes these copies with the CRDs;
// test/unit/deploy/copies.test.ts checks they are current.
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

export const crdCopyDirs = ['deploy/charts/tessera/files/crds', 'deploy/olm/manifests'] as const;
export const controllerRolePath = 'deploy/rbac/clusterrole.yaml';
export const chartControllerRolePath = 'deploy/charts/tessera/files/rbac/clusterrole.yaml';

/** The generated files plus the copies: each generated CRD in every crdCopyDirs, and the controller's ClusterRole for the chart. */
export function withDeployCopies(generated: Map<string, string>, root: string): Map<string, string> {
  const all = new Map(generated);
  for (const [path, content] of generated) {
    if (!path.startsWith('deploy/crds/') || path.endsWith('/kustomization.yaml')) continue;
    for (const dir of crdCopyDirs) all.set(`${dir}/${basename(path)}`, content);
  }
  all.set(chartControllerRolePath, readFileSync(join(root, controllerRolePath), 'utf8'));
  return all;
}
