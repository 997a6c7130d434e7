// StoreClients.warm: while the caches fill, the first store of each provider has its provider
// module, config check and SDK loaded, so that its first client is built without waiting for them.
// It builds nothing, reads no credential, calls nothing, and never fails.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { registerHooks } from 'node:module';
import { Writable } from 'node:stream';
import type { KubeClient } from '../../../src/kube/client.ts';
import { createLogger } from '../../../src/log.ts';
import { StoreClients, type AnyStore } from '../../../src/controllers/stores.ts';

const silent = createLogger('error', new Writable({ write: (_c, _e, cb) => cb() }));
// No apiserver call may happen: warming reads the spec alone.
const kube = new Proxy({}, { get: () => () => { throw new Error('no apiserver call expected'); } }) as unknown as KubeClient;
const store = (name: string, provider: Record<string, unknown>): AnyStore => ({
  apiVersion: 'external-secrets.io/v1', kind: 'ClusterSecretStore', metadata: { name, uid: name, generation: 1 }, spec: { provider },
}) as unknown as AnyStore;

describe('StoreClients.warm', () => {
  it("loads the SDK of the store's own service, once per provider, and builds no client", async () => {
    const loaded: string[] = [];
    const hooks = registerHooks({
      resolve(specifier, context, next) {
        if (specifier.startsWith('@aws-sdk/client-')) loaded.push(specifier);
        return next(specifier, context);
      },
    });
    try {
      const clients = new StoreClients({ kube, logger: silent });
      await clients.warm(store('sm', { aws: { service: 'SecretsManager', region: 'eu-west-1' } }));
      assert.deepEqual(loaded, ['@aws-sdk/client-secrets-manager']);
      // The provider is warm: a second store of it loads nothing more, whatever its service.
      await clients.warm(store('ps', { aws: { service: 'ParameterStore', region: 'eu-west-1' } }));
      assert.deepEqual(loaded, ['@aws-sdk/client-secrets-manager']);
      // Another controller's instance warms on its own.
      await new StoreClients({ kube, logger: silent }).warm(store('ps', { aws: { service: 'ParameterStore', region: 'eu-west-1' } }));
      assert.deepEqual(loaded, ['@aws-sdk/client-secrets-manager', '@aws-sdk/client-ssm']);
    } finally {
      hooks.deregister();
    }
  });

  it('never rejects: no provider, two providers, one this build lacks, an invalid config', async () => {
    const clients = new StoreClients({ kube, logger: silent });
    await clients.warm(store('none', {}));
    await clients.warm(store('two', { aws: { region: 'x' }, vault: { server: 'https://v' } }));
    await clients.warm(store('lacking', { doppler: { auth: {} } }));
    await clients.warm(store('invalid', { vault: { server: 7, auth: 'none' } }));
    await clients.warm(store('odd', { ['__proto__']: { x: 1 } }));
  });
});
