// The apiserver of the integration tests is shared by several trees, and each test file installs
// its tree's CRDs. A field a tree's CRD lacks is pruned from every ExternalSecret (on write and on
// read) while that CRD is installed, so a test of a new field can see it vanish midway. This guard
// installs this tree's CRDs and runs a scenario only while the served ExternalSecret CRD is ours,
// and runs it again when the CRD changed under it: a failure is then the code's, not the neighbour's.
import type { KubeClient } from '../../src/kube/client.ts';
import { installTessera } from './operator.ts';

const CRD_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/externalsecrets.external-secrets.io';

interface Crd {
  metadata?: { generation?: number };
}

async function servedCrd(admin: KubeClient): Promise<{ generation: number; text: string }> {
  const crd = await admin.request<Crd>('GET', CRD_PATH);
  return { generation: crd.metadata?.generation ?? 0, text: JSON.stringify(crd) };
}

/**
 * Runs `scenario` with this tree's ExternalSecret CRD served (one that names every field in
 * `fields`); runs it again, up to `attempts` times, when the CRD changed while it ran.
 */
export async function withOurCrd(admin: KubeClient, fields: string[], scenario: () => Promise<void>, attempts = 3): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await installTessera(admin);
    const before = await servedCrd(admin);
    const ours = fields.every((f) => before.text.includes(`"${f}"`));
    let failure: unknown;
    if (ours) {
      try {
        await scenario();
        const after = await servedCrd(admin);
        if (after.generation === before.generation) return;
      } catch (e) {
        failure = e;
        const after = await servedCrd(admin);
        if (after.generation === before.generation) throw e;
      }
    }
    if (attempt >= attempts) throw failure ?? new Error(`the shared apiserver kept serving an ExternalSecret CRD of another tree (without ${fields.join(', ')})`);
  }
}
