// Wires the reconcilers into the manager. Each controller registers its informers and
// workers here; the ExternalSecret and store controllers are added by their own modules.
import type { Logger } from 'pino';
import type { KubeClient } from '../kube/client.ts';
import type { EventRecorder } from '../kube/events.ts';
import type { Manager } from '../kube/manager.ts';

export interface ControllerDeps {
  client: KubeClient;
  events: EventRecorder;
  logger: Logger;
  flags: Record<string, unknown>;
}

export type ControllerSetup = (manager: Manager, deps: ControllerDeps) => Promise<void> | void;

const setups: ControllerSetup[] = [];

export function registerController(setup: ControllerSetup): void {
  setups.push(setup);
}

export async function setupControllers(manager: Manager, deps: ControllerDeps): Promise<void> {
  for (const s of setups) await s(manager, deps);
}
