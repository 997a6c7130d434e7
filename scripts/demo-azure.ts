// The Azure part of `npm run demo`: Key Vault and Entra ID served locally (the servers of the
// azurekv integration tests, on the fixed ports and tenant that examples/azure/app-credentials.yaml
// names), a service principal registered with Entra ID and its credentials in a Kubernetes Secret,
// and the example's Key Vault secret. The controller trusts the servers' test CA through
// NODE_EXTRA_CA_CERTS.
import type { KubeClient } from '../src/kube/client.ts';
import { applyManifests, parseManifests } from '../src/kube/manifests.ts';
import { core, type Secret } from '../src/kube/types.ts';
import { EntraServer, KeyVaultServer, makePki } from '../test/integration/azure/servers.ts';

/** What examples/azure/app-credentials.yaml names. */
const KEY_VAULT_PORT = 28640;
const ENTRA_PORT = 28641;
const TENANT_ID = '3f8c2a5e-7d41-4b6a-9e0f-1c2d3e4f5a6b';
const CLIENT_ID = 'demo-service-principal';

export interface AzureDemo {
  operatorEnv: Record<string, string>;
  apply(kube: KubeClient, manifests: string): Promise<void>;
  stop(): Promise<void>;
}

export const runAzureDemo = {
  async prepare(): Promise<AzureDemo> {
    const pki = await makePki();
    const entra = new EntraServer(pki, { port: ENTRA_PORT, tenantId: TENANT_ID });
    const vault = new KeyVaultServer(pki, entra, { port: KEY_VAULT_PORT });
    await entra.start();
    await vault.listener.start();
    const clientSecret = `demo-${Math.random().toString(36).slice(2)}`;
    entra.registerSecret(CLIENT_ID, clientSecret);
    vault.setSecret('billing-db', JSON.stringify({ username: 'billing', password: 'from-azure-key-vault' }), { team: 'billing' });
    return {
      operatorEnv: { NODE_EXTRA_CA_CERTS: pki.caFile, TESSERA_AZURE_VAULT_HOSTS: '127.0.0.1' },
      async apply(kube, manifests) {
        await kube.apply(core.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo-azure' } });
        await kube.apply(core.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'azure-sp', namespace: 'demo-azure' }, stringData: { 'client-id': CLIENT_ID, 'client-secret': clientSecret } } as Secret);
        await applyManifests(kube, parseManifests(manifests));
      },
      async stop() {
        await vault.listener.stop();
        await entra.stop();
      },
    };
  },
};
