// The AWS SDK packages load only when a client for them is built (and STS only when a role or
// web identity is configured), so an operator without AWS stores never pays for them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registerHooks } from 'node:module';

test('importing the provider loads no SDK; a ParameterStore client loads only client-ssm', async () => {
  const loaded = new Set<string>();
  const hooks = registerHooks({
    resolve(specifier, context, next) {
      const r = next(specifier, context);
      if (specifier.startsWith('@aws-sdk/client-')) loaded.add(specifier);
      return r;
    },
  });
  try {
    const { awsProvider } = await import('../../../../src/providers/aws/index.ts');
    assert.deepEqual([...loaded], []);
    const client = await awsProvider.newClient(
      { service: 'ParameterStore', region: 'us-east-1' },
      { namespace: 'x', env: {}, readSecretKey: async () => '', createServiceAccountToken: async () => '' },
    );
    await client.close();
    assert.deepEqual([...loaded], ['@aws-sdk/client-ssm']);
  } finally {
    hooks.deregister();
  }
});
