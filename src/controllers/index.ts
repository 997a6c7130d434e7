// Wires the reconcilers into the manager from the command-line configuration.
import type { Logger } from 'pino';
import type { KubeClient } from '../kube/client.ts';
import type { EventRecorder } from '../kube/events.ts';
import type { Manager } from '../kube/manager.ts';
import { core, type KubeObject, type Secret } from '../kube/types.ts';
import { templateRefs, type TemplateSources } from '../sync/template-refs.ts';
import type { DesiredSecretCompute } from '../compute/index.ts';
import { decodeSecretData, type Secret as SyncSecret } from '../sync/secret.ts';
import type { ExternalSecret } from '../api/types.generated.ts';
import { controllerErrors } from './errors.ts';
import { setupExternalSecretController, type ExternalSecretControllerOptions } from './externalsecret.ts';
import { setupClusterExternalSecretController } from './clusterexternalsecret.ts';
import { setupPushSecretControllers } from './pushsecret.ts';
import type { ReconcilerKube } from './externalsecret-reconciler.ts';

/** The controller settings that come from the command line. */
export type ControllerConfig = Pick<
  ExternalSecretControllerOptions,
  | 'namespace'
  | 'controllerClass'
  | 'concurrent'
  | 'storeConcurrency'
  | 'namespaceConcurrency'
  | 'providerCacheTtlMs'
  | 'storeRequeueIntervalMs'
  | 'storeQps'
  | 'storeBurst'
  | 'providerTimeoutMs'
  | 'namespacedStoreControllerIdentity'
  | 'reconcileTimeoutMs'
  | 'shutdownGraceMs'
  | 'allowGenericTargets'
  | 'genericTargetKinds'
  | 'sharding'
>;

export interface ControllerDeps {
  client: KubeClient;
  events: EventRecorder;
  logger: Logger;
  config: ControllerConfig;
  /** Step 3 off the event loop; the caller owns its lifetime (closed at shutdown). */
  compute: DesiredSecretCompute;
}

export async function setupControllers(manager: Manager, deps: ControllerDeps): Promise<void> {
  const { externalSecrets } = setupExternalSecretController(manager, {
    kube: deps.client,
    events: deps.events,
    logger: deps.logger,
    ...deps.config,
    computeDesiredSecret: (input, opts) => deps.compute.computeDesiredSecret(input, opts),
    templateSourcesFor: readTemplateSources,
  });
  setupPushSecretControllers(manager, {
    kube: deps.client,
    events: deps.events,
    logger: deps.logger,
    namespace: deps.config.namespace,
    controllerClass: deps.config.controllerClass,
    concurrent: deps.config.concurrent,
    providerTimeoutMs: deps.config.providerTimeoutMs,
    namespacedStoreControllerIdentity: deps.config.namespacedStoreControllerIdentity,
    reconcileTimeoutMs: deps.config.reconcileTimeoutMs,
    shutdownGraceMs: deps.config.shutdownGraceMs,
    computeDesiredSecret: (input, opts) => deps.compute.computeDesiredSecret(input, opts),
    computePushEntries: (input, opts) => deps.compute.computePushEntries(input, opts),
    templateSourcesFor: readTemplateSources,
  });
  setupClusterExternalSecretController(manager, {
    kube: deps.client,
    logger: deps.logger,
    namespace: deps.config.namespace,
    controllerClass: deps.config.controllerClass,
    reconcileTimeoutMs: deps.config.reconcileTimeoutMs,
    shutdownGraceMs: deps.config.shutdownGraceMs,
    // One watch and one cache of ExternalSecrets for both controllers, unless sharding keeps
    // only some namespaces in the ExternalSecret controller's cache (this one needs them all).
    externalSecrets: deps.config.sharding ? undefined : externalSecrets,
  });
}

/** templateFrom reads ConfigMaps and Secrets by name from the object's namespace. */
async function readTemplateSources(es: KubeObject, kube: ReconcilerKube, signal?: AbortSignal): Promise<TemplateSources> {
  const ns = es.metadata!.namespace!;
  const refs = templateRefs(es as ExternalSecret);
  const configMaps = new Map<string, Record<string, string>>();
  const secrets = new Map<string, Record<string, Uint8Array>>();
  for (const name of refs.configMaps) {
    const cm = await kube.tryGet<KubeObject & { data?: Record<string, string> }>(core.configMaps, ns, name, { signal });
    if (!cm) throw controllerErrors.templateSourceNotFound('ConfigMap', ns, name);
    configMaps.set(name, cm.data ?? {});
  }
  for (const name of refs.secrets) {
    const s = await kube.tryGet<Secret>(core.secrets, ns, name, { signal });
    if (!s) throw controllerErrors.templateSourceNotFound('Secret', ns, name);
    secrets.set(name, Object.fromEntries(decodeSecretData(s as unknown as SyncSecret)));
  }
  return { configMaps, secrets };
}
