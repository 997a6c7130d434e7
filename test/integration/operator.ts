// The operator process for integration tests: started once per file, stopped when it ends.
import type { KubeClient } from '../../src/kube/client.ts';
import type { PeersEnv } from '../peers/index.ts';
import { startOperator as start, type Operator } from '../peers/operator.ts';
import { onCleanup } from './helpers.ts';

export { installTessera, operatorKubeconfig, manifestsIn, type Operator } from '../peers/operator.ts';

export async function startOperator(admin: KubeClient, env: PeersEnv, args: string[] = [], extraEnv: Record<string, string> = {}): Promise<Operator> {
  const op = await start(admin, env, args, extraEnv);
  onCleanup(() => op.stop());
  return op;
}
