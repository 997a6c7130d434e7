// The Helm chart and the OLM bundle ship some of deploy/ as files of their own (a chart repository
// or a bundle image carries no file from outside its directory): the CRDs, and for the chart the
// controller's ClusterRole; the bundle's ClusterServiceVersion is derived from deploy/ as well
// (scripts/olm-bundle.ts). scripts/generate.ts writes all of them with the CRDs;
// test/unit/deploy/copies.test.ts checks they are current.
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { clusterServiceVersion, csvPath } from './olm-bundle.ts';

export const crdCopyDirs = ['deploy/charts/tessera/files/crds', 'deploy/olm/manifests'] as const;
export const controllerRolePath = 'deploy/rbac/clusterrole.yaml';
export const chartControllerRolePath = 'deploy/charts/tessera/files/rbac/clusterrole.yaml';

/** The generated files plus the derived ones: each CRD in every crdCopyDirs, the chart's controller ClusterRole, the bundle's CSV. */
export function withDeployCopies(generated: Map<string, string>, root: string): Map<string, string> {
  const all = new Map(generated);
  for (const [path, content] of generated) {
    if (!path.startsWith('deploy/crds/') || path.endsWith('/kustomization.yaml')) continue;
    for (const dir of crdCopyDirs) all.set(`${dir}/${basename(path)}`, content);
  }
  all.set(chartControllerRolePath, readFileSync(join(root, controllerRolePath), 'utf8'));
  const crds = [...generated].filter(([p]) => p.startsWith('deploy/crds/') && !p.endsWith('/kustomization.yaml')).map(([, c]) => c);
  all.set(csvPath, clusterServiceVersion(root, crds));
  return all;
}
