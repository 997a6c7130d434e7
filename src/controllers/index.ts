// Wires the reconcilers into the manager from the command-line configuration.
import type { Logger } from 'pino';
import type { KubeClient } from '../kube/client.ts';
import type { EventRecorder } from '../kube/events.ts';
import type { Manager } from '../kube/manager.ts';
import { setupExternalSecretController } from './externalsecret.ts';

export interface ControllerConfig {
  namespace?: string | undefined;
  controllerClass: string;
  concurrent: number;
  providerCacheTtlMs: number;
  storeRequeueIntervalMs: number;
  storeQps: number;
  storeBurst: number;
}

export interface ControllerDeps {
  client: KubeClient;
  events: EventRecorder;
  logger: Logger;
  config: ControllerConfig;
}

export async function setupControllers(manager: Manager, deps: ControllerDeps): Promise<void> {
  setupExternalSecretController(manager, {
    kube: deps.client,
    events: deps.events,
    logger: deps.logger,
    ...deps.config,
  });
}
