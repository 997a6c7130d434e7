// Credential chain logic. STS calls go through the real SDK client; a middleware answers them
// before they leave the process, so the inputs the SDK would send can be checked.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { memoize, storeCredentials, stsFactory } from '../../../../src/providers/aws/credentials.ts';
import type { StsFactory } from '../../../../src/providers/aws/credentials.ts';
import type { AWSProvider } from '../../../../src/providers/aws/config.ts';
import type { CredentialProvider } from '../../../../src/providers/aws/sdk.ts';
import { ProviderError } from '../../../../src/providers/provider.ts';
import type { ProviderContext, SecretKeySelector } from '../../../../src/providers/provider.ts';

const env = { AWS_REGION: 'us-east-1' };

function ctx(extra: Partial<ProviderContext> = {}): ProviderContext {
  return {
    namespace: 'apps',
    env,
    readSecretKey: async (ref: SecretKeySelector) => {
      const values: Record<string, string> = { 'aws/id': 'AKIDEXAMPLE\n', 'aws/secret': 'SECRETEXAMPLE', 'aws/token': 'TOKEN' };
      const v = values[`${ref.name}/${ref.key}`];
      if (v === undefined) throw new ProviderError('BadCredentials', `no key ${ref.key}`);
      return v;
    },
    createServiceAccountToken: async () => 'header.payload.signature',
    ...extra,
  };
}

interface StsCall {
  command: string;
  input: Record<string, unknown>;
  signedWith: CredentialProvider | undefined;
}

/** The real STS factory, with each client answering AssumeRole* locally and recording inputs. */
function recordingSts(calls: StsCall[]): StsFactory {
  const real = stsFactory({ region: 'us-east-1', env });
  let n = 0;
  return {
    module: real.module,
    close: real.close,
    async client(credentials) {
      const client = await real.client(credentials);
      client.middlewareStack.add(
        (_next, context) => async (args) => {
          // What signing would do: resolve the source credentials (the previous hop) first.
          if (credentials) await credentials();
          calls.push({ command: context.commandName!, input: args.input as Record<string, unknown>, signedWith: credentials });
          n++;
          return {
            output: {
              $metadata: {},
              Credentials: { AccessKeyId: `ASIA${n}`, SecretAccessKey: `secret${n}`, SessionToken: `token${n}`, Expiration: new Date(Date.now() + 3600_000) },
            },
            response: {},
          } as never;
        },
        { step: 'initialize', name: 'fakeSts' },
      );
      return client;
    },
  };
}

describe('memoize', () => {
  test('caches until close to expiry, shares in-flight fetches, does not cache failures', async () => {
    let now = 0;
    let fetches = 0;
    let fail = false;
    const p = memoize(async () => {
      fetches++;
      if (fail) throw new Error('sts down');
      return { accessKeyId: `k${fetches}`, secretAccessKey: 's', expiration: new Date(now + 60 * 60_000) };
    }, () => now);
    const [a, b] = await Promise.all([p(), p()]);
    assert.equal(a.accessKeyId, 'k1');
    assert.equal(b.accessKeyId, 'k1');
    assert.equal(fetches, 1);
    now += 50 * 60_000; // 10 min left: still fresh
    assert.equal((await p()).accessKeyId, 'k1');
    now += 6 * 60_000; // 4 min left: refresh
    fail = true;
    await assert.rejects(p(), /sts down/);
    fail = false;
    assert.equal((await p()).accessKeyId, 'k3');
  });
  test('credentials without expiration are fetched once', async () => {
    let fetches = 0;
    const p = memoize(async () => ({ accessKeyId: `k${++fetches}`, secretAccessKey: 's' }));
    await p();
    await p();
    assert.equal(fetches, 1);
  });
});

describe('storeCredentials', () => {
  test('auth.secretRef: static keys, trimmed, with session token', async () => {
    const config: AWSProvider = {
      service: 'SecretsManager',
      auth: { secretRef: { accessKeyIDSecretRef: { name: 'aws', key: 'id' }, secretAccessKeySecretRef: { name: 'aws', key: 'secret' }, sessionTokenSecretRef: { name: 'aws', key: 'token' } } },
    };
    const creds = await storeCredentials(config, ctx(), env, stsFactory({ region: 'us-east-1', env }));
    assert.deepEqual(await creds!(), { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'SECRETEXAMPLE', sessionToken: 'TOKEN' });
  });

  test('no auth: keys from ctx.env, else the SDK default chain (undefined)', async () => {
    const withKeys = { AWS_ACCESS_KEY_ID: 'A', AWS_SECRET_ACCESS_KEY: 'B' };
    const c = await storeCredentials({ service: 'ParameterStore' }, ctx({ env: withKeys }), withKeys, stsFactory({ region: 'x', env: withKeys }));
    assert.deepEqual(await c!(), { accessKeyId: 'A', secretAccessKey: 'B' });
    assert.equal(await storeCredentials({ service: 'ParameterStore' }, ctx(), env, stsFactory({ region: 'x', env })), undefined);
  });

  test('additionalRoles are assumed in order, then role with externalID and session tags', async () => {
    const calls: StsCall[] = [];
    const config: AWSProvider = {
      service: 'SecretsManager',
      auth: { secretRef: { accessKeyIDSecretRef: { name: 'aws', key: 'id' }, secretAccessKeySecretRef: { name: 'aws', key: 'secret' } } },
      additionalRoles: ['arn:aws:iam::1:role/first', 'arn:aws:iam::2:role/second'],
      role: 'arn:aws:iam::3:role/final',
      externalID: 'ext-42',
      sessionTags: [{ key: 'team', value: 'payments' }, null],
      transitiveTagKeys: ['team'],
    };
    const creds = await storeCredentials(config, ctx(), env, recordingSts(calls));
    const final = await creds!();
    assert.equal(final.accessKeyId, 'ASIA3');
    assert.deepEqual(
      calls.map((c) => [c.command, c.input.RoleArn]),
      [
        ['AssumeRoleCommand', 'arn:aws:iam::1:role/first'],
        ['AssumeRoleCommand', 'arn:aws:iam::2:role/second'],
        ['AssumeRoleCommand', 'arn:aws:iam::3:role/final'],
      ],
    );
    // Each hop signs with the previous hop's credentials.
    assert.equal((await calls[0]!.signedWith!()).accessKeyId, 'AKIDEXAMPLE');
    assert.equal((await calls[1]!.signedWith!()).accessKeyId, 'ASIA1');
    assert.equal((await calls[2]!.signedWith!()).accessKeyId, 'ASIA2');
    assert.equal(calls[0]!.input.ExternalId, undefined);
    assert.equal(calls[2]!.input.ExternalId, 'ext-42');
    assert.deepEqual(calls[2]!.input.Tags, [{ Key: 'team', Value: 'payments' }]);
    assert.deepEqual(calls[2]!.input.TransitiveTagKeys, ['team']);
    assert.match(String(calls[2]!.input.RoleSessionName), /^tessera-\d+$/);
    // Cached: a second read makes no STS call.
    await creds!();
    assert.equal(calls.length, 3);
  });

  test('jwt: token for the IRSA role with the default audience plus extra audiences', async () => {
    const calls: StsCall[] = [];
    const tokenRequests: unknown[] = [];
    const c = ctx({
      readServiceAccountAnnotations: async () => ({ 'eks.amazonaws.com/role-arn': 'arn:aws:iam::1:role/irsa', 'eks.amazonaws.com/audience': 'custom-aud' }),
      createServiceAccountToken: async (ref) => {
        tokenRequests.push(ref);
        return 'h.p.s';
      },
    });
    const config: AWSProvider = { service: 'SecretsManager', auth: { jwt: { serviceAccountRef: { name: 'eso', namespace: 'ops', audiences: ['extra'] } } }, role: 'arn:aws:iam::2:role/after' };
    const creds = await storeCredentials(config, c, env, recordingSts(calls));
    await creds!();
    assert.deepEqual(tokenRequests, [{ name: 'eso', namespace: 'ops', audiences: ['custom-aud', 'extra'] }]);
    assert.deepEqual(
      calls.map((x) => [x.command, x.input.RoleArn]),
      [
        ['AssumeRoleWithWebIdentityCommand', 'arn:aws:iam::1:role/irsa'],
        ['AssumeRoleCommand', 'arn:aws:iam::2:role/after'],
      ],
    );
    assert.equal(calls[0]!.input.WebIdentityToken, 'h.p.s');
    assert.equal(calls[0]!.input.RoleSessionName, 'tessera-provider-aws');
  });

  test('jwt with neither annotation nor role is an InvalidRequest naming the service account', async () => {
    await assert.rejects(
      storeCredentials({ service: 'SecretsManager', auth: { jwt: { serviceAccountRef: { name: 'eso' } } } }, ctx({ readServiceAccountAnnotations: async () => ({}) }), env, stsFactory({ region: 'x', env })),
      (err: unknown) => err instanceof ProviderError && err.kind === 'InvalidRequest' && /service account eso/.test(err.message),
    );
  });

  test('a failing secret read is BadCredentials naming the field', async () => {
    const config: AWSProvider = { service: 'SecretsManager', auth: { secretRef: { accessKeyIDSecretRef: { name: 'aws', key: 'id' }, secretAccessKeySecretRef: { name: 'aws', key: 'missing' } } } };
    await assert.rejects(storeCredentials(config, ctx(), env, stsFactory({ region: 'x', env })), (err: unknown) => err instanceof ProviderError && err.kind === 'BadCredentials');
    const throwsPlain = ctx({ readSecretKey: async () => { throw new Error('boom'); } });
    await assert.rejects(storeCredentials(config, throwsPlain, env, stsFactory({ region: 'x', env })), (err: unknown) =>
      err instanceof ProviderError && err.kind === 'BadCredentials' && /auth\.secretRef\.secretAccessKeySecretRef/.test(err.message),
    );
  });
});
