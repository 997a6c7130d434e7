// The cluster side of generators for the ExternalSecret reconciler: reading generator objects and
// the Secrets they reference through the operator's kube client, and turning a dataFrom entry's
// generatorRef into the values the sync core consumes. The reconciler calls
// `generatedDataFrom` for each dataFrom[].sourceRef.generatorRef, on every sync: generated values
// are never cached or shared (a new password each refresh, as ESO does).
import { GENERATORS_GROUP, GENERATORS_VERSION, RESOURCES, type GeneratorKind } from '../api/constants.ts';
import type { KubeClient } from '../kube/client.ts';
import { core, type KubeObject, type ResourceType, type Secret } from '../kube/types.ts';
import { GeneratorError, generate, type GeneratedOutput, type GeneratorDeps, type GeneratorRef } from '../generators/index.ts';
import type { RemoteValue } from '../providers/provider.ts';
import { controllerErrors } from './errors.ts';
import { kubeProviderContext } from './stores.ts';

/** The collection of one generator kind. */
export function generatorResource(kind: GeneratorKind): ResourceType {
  const r = RESOURCES[kind];
  return { group: GENERATORS_GROUP, version: GENERATORS_VERSION, plural: r.plural, kind, namespaced: r.scope === 'Namespaced' };
}

export interface KubeGeneratorOptions {
  kube: Pick<KubeClient, 'tryGet' | 'get' | 'request'>;
  controllerClass?: string | undefined;
  env?: Record<string, string | undefined> | undefined;
  callDeadlineMs?: number | undefined;
}

/**
 * GeneratorDeps over the Kubernetes API. Every reference a generator makes is read in the
 * ExternalSecret's namespace only (a ClusterGenerator's too): a tenant's ExternalSecret must not
 * reach another namespace's Secrets through a generator.
 */
export function kubeGeneratorDeps(o: KubeGeneratorOptions): GeneratorDeps {
  return {
    controllerClass: o.controllerClass,
    getGenerator: (kind, namespace, name, signal) => o.kube.tryGet<KubeObject & { spec?: unknown }>(generatorResource(kind), namespace, name, { signal }),
    readSecret: async (namespace, name, signal) => {
      const s = await o.kube.tryGet<Secret>(core.secrets, namespace, name, { signal });
      if (!s) return undefined;
      const data: Record<string, Uint8Array> = {};
      for (const [k, v] of Object.entries(s.data ?? {})) data[k] = Buffer.from(v, 'base64');
      return { labels: s.metadata?.labels ?? {}, data };
    },
    providerContext: (namespace, label) => kubeProviderContext({
      kube: o.kube as KubeClient, label, ownNamespace: namespace, confined: 'a generator', defaultNamespace: namespace, provider: 'generator', env: o.env, callDeadlineMs: o.callDeadlineMs,
    }),
  };
}

/** Runs a generator for an ExternalSecret in `namespace` (generate() over chosen deps). */
export type GenerateValues = (namespace: string, ref: GeneratorRef, signal: AbortSignal) => Promise<GeneratedOutput>;

export function kubeGenerateValues(o: KubeGeneratorOptions): GenerateValues {
  const deps = kubeGeneratorDeps(o);
  return (namespace, ref, signal) => generate(deps, namespace, ref, signal);
}

/**
 * A dataFrom entry's generated values, keyed as generated, or its failure as a catalog error;
 * 'skip' when the generator belongs to another controller class (the ExternalSecret is not ours).
 */
export async function generatedDataFrom(generateValues: GenerateValues | undefined, namespace: string, ref: GeneratorRef, field: string, signal: AbortSignal | undefined): Promise<Map<string, RemoteValue> | 'skip'> {
  if (!generateValues) throw controllerErrors.unsupportedSource(field, 'generators');
  try {
    const out = await generateValues(namespace, ref, signal ?? new AbortController().signal);
    return new Map(Object.entries(out.values).map(([k, v]) => [k, { value: v }]));
  } catch (e) {
    if (signal?.aborted) throw e;
    if (e instanceof GeneratorError && e.reason === 'OtherController') return 'skip';
    throw controllerErrors.fromGenerator(field, e);
  }
}
