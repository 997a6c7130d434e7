// The AWS provider against moto (Secrets Manager, Parameter Store, STS) on 127.0.0.1.
// moto is shared by the suite and keeps state between runs, so every name here carries a
// per-run id. The endpoint reaches the provider only through ctx.env (never process.env).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import * as smSdk from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { ensurePeers } from '../../peers/index.ts';
import type { PeersEnv } from '../../peers/index.ts';
import { awsProvider } from '../../../src/providers/aws/index.ts';
import type { AWSProvider } from '../../../src/providers/aws/index.ts';
import { storeCredentials, stsFactory } from '../../../src/providers/aws/credentials.ts';
import { SecretsManagerReader } from '../../../src/providers/aws/secretsmanager.ts';
import { countApiCalls } from '../../../src/providers/aws/sdk.ts';
import { ProviderError, isNotFound } from '../../../src/providers/provider.ts';
import type { ProviderClient, ProviderContext, RemoteValue, SecretKeySelector } from '../../../src/providers/provider.ts';

const run = `tsr${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
let env: PeersEnv;
let sm: SecretsManagerClient;
let ssm: SSMClient;
const clients: ProviderClient[] = [];

const text = (v: RemoteValue | Error | undefined): string => {
  if (v === undefined) throw new Error('no value');
  if (v instanceof Error) throw v;
  return Buffer.from(v.value).toString('utf8');
};

interface Recorder {
  calls: string[];
  count(op: string): number;
}

function recorder(): Recorder {
  const calls: string[] = [];
  return { calls, count: (op) => calls.filter((c) => c === op).length };
}

function context(rec: Recorder = recorder(), extra: Partial<ProviderContext> = {}, envOverride?: Record<string, string | undefined>): ProviderContext {
  return {
    namespace: 'default',
    env: envOverride ?? env,
    readSecretKey: async () => {
      throw new ProviderError('BadCredentials', 'no secrets in this test');
    },
    createServiceAccountToken: async () => {
      throw new ProviderError('BadCredentials', 'no tokens in this test');
    },
    onApiCall: (op) => rec.calls.push(op),
    ...extra,
  };
}

async function store(config: Partial<AWSProvider> & Pick<AWSProvider, 'service'>, ctx: ProviderContext = context()): Promise<ProviderClient> {
  assert.deepEqual(awsProvider.validateConfig(config as AWSProvider), []);
  const c = await awsProvider.newClient(config as AWSProvider, ctx);
  clients.push(c);
  return c;
}

async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function motoAssumedRoles(): Promise<Array<{ role_arn: string; session_name: string; external_id: string | null }>> {
  const res = await fetch(`${env.AWS_ENDPOINT_URL}/moto-api/data.json`);
  const data = (await res.json()) as { sts?: { AssumedRole?: Array<{ role_arn: string; session_name: string; external_id: string | null }> } };
  return data.sts?.AssumedRole ?? [];
}

const secretArn = new Map<string, string>();
const versions: { first?: string; second?: string } = {};

before(async () => {
  // Fails (does not skip) when moto cannot be built or started.
  env = { ...(await ensurePeers(['moto'])) };
  const cfg = { region: env.AWS_REGION, endpoint: env.AWS_ENDPOINT_URL, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
  sm = new SecretsManagerClient(cfg);
  ssm = new SSMClient(cfg);

  const create = async (name: string, value: { SecretString?: string; SecretBinary?: Uint8Array }, tags: Record<string, string> = {}) => {
    const out = await sm.send(new CreateSecretCommand({ Name: name, ...value, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }));
    secretArn.set(name, out.ARN!);
    return out;
  };
  await create(`${run}/db/password`, { SecretString: 's3cr3t-db' }, { team: 'payments', env: 'prod' });
  await create(`${run}/db/user`, { SecretString: 'app' }, { team: 'payments', env: 'dev' });
  await create(`${run}/api/token`, { SecretString: '{"token":"abc"}' }, { team: 'search', env: 'prod', 'a<b': 'x&y' });
  await create(`${run}/blob`, { SecretBinary: new Uint8Array([0, 1, 2, 255, 254]) });
  const v1 = await create(`${run}/rotating`, { SecretString: 'v1' });
  const v2 = await sm.send(new PutSecretValueCommand({ SecretId: `${run}/rotating`, SecretString: 'v2' }));
  versions.first = v1.VersionId;
  versions.second = v2.VersionId;
  await Promise.all(Array.from({ length: 25 }, (_, i) => create(`${run}/many/k${String(i).padStart(2, '0')}`, { SecretString: `value-${i}` })));

  const put = (Name: string, Value: string, Type: 'String' | 'SecureString' = 'String', tags: Record<string, string> = {}, Overwrite = false) =>
    ssm.send(new PutParameterCommand({ Name, Value, Type, Overwrite, ...(Overwrite ? {} : { Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }) }));
  await put(`/${run}/app/url`, 'https://example.test', 'String', { team: 'payments' });
  await put(`/${run}/app/url`, 'https://example.test/v2', 'String', {}, true);
  await put(`/${run}/app/secret`, 'ssm-s3cr3t', 'SecureString', { team: 'payments', tier: 'gold' });
  await put(`/${run}/app/nested/deep`, 'deep-value', 'String', { team: 'search' });
  await put(`/${run}/other/x`, 'other', 'String');
  await Promise.all(Array.from({ length: 12 }, (_, i) => put(`/${run}/bulk/p${String(i).padStart(2, '0')}`, `pv-${i}`)));
});

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  sm?.destroy();
  ssm?.destroy();
});

describe('Secrets Manager', () => {
  test('reads a string secret as UTF-8 bytes, by name and by ARN', async () => {
    const c = await store({ service: 'SecretsManager' });
    assert.equal(text(await c.getValue({ key: `${run}/db/password` })), 's3cr3t-db');
    assert.equal(text(await c.getValue({ key: secretArn.get(`${run}/db/password`)! })), 's3cr3t-db');
  });

  test('reads a binary secret byte for byte', async () => {
    const c = await store({ service: 'SecretsManager' });
    const v = await c.getValue({ key: `${run}/blob` });
    assert.deepEqual([...v.value], [0, 1, 2, 255, 254]);
  });

  test('versions: AWSCURRENT by default, uuid/<VersionId>, AWSPREVIOUS', async () => {
    const c = await store({ service: 'SecretsManager' });
    assert.equal(text(await c.getValue({ key: `${run}/rotating` })), 'v2');
    assert.equal(text(await c.getValue({ key: `${run}/rotating`, version: 'AWSCURRENT' })), 'v2');
    assert.equal(text(await c.getValue({ key: `${run}/rotating`, version: `uuid/${versions.first}` })), 'v1');
    assert.equal(text(await c.getValue({ key: `${run}/rotating`, version: `uuid/${versions.second}` })), 'v2');
    assert.equal(text(await c.getValue({ key: `${run}/rotating`, version: 'AWSPREVIOUS' })), 'v1');
  });

  test('a missing key or version is a NotFoundError naming operation, key and AWS code', async () => {
    const c = await store({ service: 'SecretsManager' });
    await assert.rejects(c.getValue({ key: `${run}/does-not-exist` }), (err: unknown) => {
      assert.ok(isNotFound(err));
      assert.match((err as Error).message, /GetSecretValue ".*\/does-not-exist": not found \(ResourceNotFoundException\)/);
      return true;
    });
    await assert.rejects(c.getValue({ key: `${run}/rotating`, version: 'uuid/00000000-0000-0000-0000-00000000dead' }), (err: unknown) => isNotFound(err));
  });

  test('metadataPolicy Fetch returns the tags as a JSON object, encoded as ESO (Go) does', async () => {
    const c = await store({ service: 'SecretsManager' });
    assert.equal(text(await c.getValue({ key: `${run}/api/token`, metadataPolicy: 'Fetch' })), '{"a\\u003cb":"x\\u0026y","env":"prod","team":"search"}');
  });

  test('prefix is prepended to every key', async () => {
    const c = await store({ service: 'SecretsManager', prefix: `${run}/db/` });
    assert.equal(text(await c.getValue({ key: 'user' })), 'app');
    const [v] = await c.getValues!([{ key: 'password' }]);
    assert.equal(text(v), 's3cr3t-db');
  });

  test('getValues reads 28 refs (25 secrets, ARNs, a missing one) in 2 BatchGetSecretValue calls, errors per key', async () => {
    const rec = recorder();
    const c = await store({ service: 'SecretsManager' }, context(rec));
    const refs = Array.from({ length: 25 }, (_, i) => ({ key: `${run}/many/k${String(i).padStart(2, '0')}` }));
    refs.push({ key: `${run}/many/missing` });
    refs.push({ key: secretArn.get(`${run}/many/k03`)! }); // the same secret by ARN
    refs.push({ key: secretArn.get(`${run}/many/k04`)!.slice(0, -7) }); // by partial ARN (no random suffix)
    const values = await c.getValues!(refs);
    assert.equal(values.length, 28);
    for (let i = 0; i < 25; i++) assert.equal(text(values[i]), `value-${i}`);
    assert.ok(isNotFound(values[25]), String(values[25]));
    assert.equal(text(values[26]), 'value-3');
    assert.equal(text(values[27]), 'value-4');
    assert.equal(rec.count('BatchGetSecretValue'), 2);
    assert.equal(rec.count('GetSecretValue'), 0);
    console.log(`[aws] getValues(28 refs): ${JSON.stringify(countBy(rec.calls))}`);
  });

  test('getValues reads versioned and metadata refs one by one', async () => {
    const rec = recorder();
    const c = await store({ service: 'SecretsManager' }, context(rec));
    const values = await c.getValues!([
      { key: `${run}/rotating` },
      { key: `${run}/rotating`, version: 'AWSPREVIOUS' },
      { key: `${run}/db/user`, metadataPolicy: 'Fetch' },
    ]);
    assert.deepEqual(values.map(text), ['v2', 'v1', '{"env":"dev","team":"payments"}']);
    assert.deepEqual(countBy(rec.calls), { BatchGetSecretValue: 1, GetSecretValue: 1, DescribeSecret: 1 });
  });

  test('when BatchGetSecretValue is denied, reads key by key and stops trying batch', async () => {
    // moto does not enforce IAM here; the denial is injected into the real SDK client's
    // middleware stack, every other call goes to moto.
    const client = new SecretsManagerClient({ region: env.AWS_REGION, endpoint: env.AWS_ENDPOINT_URL, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    const rec = recorder();
    countApiCalls(client, 'secretsmanager', (op) => rec.calls.push(op));
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'BatchGetSecretValueCommand') {
          throw new SecretsManagerServiceException({
            name: 'AccessDeniedException',
            $fault: 'client',
            $metadata: { httpStatusCode: 400 },
            message: 'User is not authorized to perform: secretsmanager:BatchGetSecretValue',
          });
        }
        return next(args);
      },
      { step: 'initialize', name: 'denyBatch', priority: 'low' },
    );
    const reader = new SecretsManagerReader(smSdk, client);
    clients.push(reader);
    const refs = [0, 1, 2].map((i) => ({ key: `${run}/many/k0${i}` }));
    assert.deepEqual((await reader.getValues(refs)).map(text), ['value-0', 'value-1', 'value-2']);
    assert.deepEqual(countBy(rec.calls), { BatchGetSecretValue: 1, GetSecretValue: 3 });
    assert.equal(reader.batchDenied, true);
    rec.calls.length = 0;
    assert.deepEqual((await reader.getValues(refs)).map(text), ['value-0', 'value-1', 'value-2']);
    assert.deepEqual(countBy(rec.calls), { GetSecretValue: 3 });
    // find uses the same memory
    rec.calls.length = 0;
    const found = await reader.findValues({ path: `${run}/db/` });
    assert.deepEqual([...found.keys()].sort(), [`${run}/db/password`, `${run}/db/user`]);
    assert.deepEqual(countBy(rec.calls), { ListSecrets: 1, GetSecretValue: 2 });
  });

  test('find by name regexp (RE2 flags), by tags, by path, by tags and name', async () => {
    const rec = recorder();
    const c = await store({ service: 'SecretsManager' }, context(rec));
    const keys = async (q: Parameters<ProviderClient['findValues']>[0]) => [...(await c.findValues(q)).keys()].sort();

    const byName = await c.findValues({ name: { regexp: `^${run}/DB/(?P<x>pass|user)` } });
    assert.equal(byName.size, 0, 'regexp is case-sensitive by default');
    const byNameI = await c.findValues({ name: { regexp: `(?i)^${run}/DB/(?P<x>pass|user)` } });
    assert.deepEqual([...byNameI.keys()].sort(), [`${run}/db/password`, `${run}/db/user`]);
    const byPosixClass = await c.findValues({ name: { regexp: `^${run}/db/[[:alpha:]]+$` } });
    assert.deepEqual([...byPosixClass.keys()].sort(), [`${run}/db/password`, `${run}/db/user`], 'Go RE2 POSIX class');
    assert.equal(text(byNameI.get(`${run}/db/password`)), 's3cr3t-db');

    assert.deepEqual(await keys({ tags: { team: 'payments' }, path: `${run}/` }), [`${run}/db/password`, `${run}/db/user`]);
    // tag key and value must be on the same tag: env=payments matches nothing
    assert.deepEqual(await keys({ tags: { env: 'payments' }, path: `${run}/` }), []);
    assert.deepEqual(await keys({ tags: { team: 'payments', env: 'prod' }, path: `${run}/` }), [`${run}/db/password`]);
    assert.deepEqual(await keys({ path: `${run}/many/k2` }), [0, 1, 2, 3, 4].map((i) => `${run}/many/k2${i}`));
    assert.deepEqual(await keys({ name: { regexp: 'token$' }, tags: { env: 'prod' }, path: `${run}/` }), [`${run}/api/token`]);

    rec.calls.length = 0;
    const all = await c.findValues({ path: `${run}/many/` });
    assert.equal(all.size, 25);
    assert.equal(text(all.get(`${run}/many/k24`)), 'value-24');
    assert.deepEqual(countBy(rec.calls), { ListSecrets: 1, BatchGetSecretValue: 2 });
    console.log(`[aws] findValues(path, 25 matches): ${JSON.stringify(countBy(rec.calls))}`);
  });

  test('find with a store prefix searches under the prefix and returns full names', async () => {
    const c = await store({ service: 'SecretsManager', prefix: `${run}/` });
    const found = await c.findValues({ path: 'db/' });
    assert.deepEqual([...found.keys()].sort(), [`${run}/db/password`, `${run}/db/user`]);
  });

  test('validate() succeeds against moto', async () => {
    const rec = recorder();
    const c = await store({ service: 'SecretsManager' }, context(rec));
    await c.validate();
    assert.deepEqual(rec.calls, ['ListSecrets']);
  });
});

describe('Parameter Store', () => {
  test('reads String and decrypted SecureString parameters', async () => {
    const c = await store({ service: 'ParameterStore' });
    assert.equal(text(await c.getValue({ key: `/${run}/app/url` })), 'https://example.test/v2');
    assert.equal(text(await c.getValue({ key: `/${run}/app/secret` })), 'ssm-s3cr3t');
  });

  test('version as name:version', async () => {
    const c = await store({ service: 'ParameterStore' });
    assert.equal(text(await c.getValue({ key: `/${run}/app/url`, version: '1' })), 'https://example.test');
    assert.equal(text(await c.getValue({ key: `/${run}/app/url`, version: '2' })), 'https://example.test/v2');
    await assert.rejects(c.getValue({ key: `/${run}/app/url`, version: '9' }), (err: unknown) => {
      assert.ok(isNotFound(err));
      assert.match((err as Error).message, /ParameterVersionNotFound/);
      return true;
    });
  });

  test('missing parameter is NotFound', async () => {
    const c = await store({ service: 'ParameterStore' });
    await assert.rejects(c.getValue({ key: `/${run}/nope` }), (err: unknown) => {
      assert.ok(isNotFound(err));
      assert.match((err as Error).message, /GetParameter ".*\/nope": not found \(ParameterNotFound\)/);
      return true;
    });
  });

  test('metadataPolicy Fetch returns the tags', async () => {
    const c = await store({ service: 'ParameterStore' });
    assert.equal(text(await c.getValue({ key: `/${run}/app/secret`, metadataPolicy: 'Fetch' })), '{"team":"payments","tier":"gold"}');
    await assert.rejects(c.getValue({ key: `/${run}/nope`, metadataPolicy: 'Fetch' }), (err: unknown) => isNotFound(err));
  });

  test('getValues batches plain names 10 per GetParameters call', async () => {
    const rec = recorder();
    const c = await store({ service: 'ParameterStore', prefix: `/${run}/` }, context(rec));
    const refs = Array.from({ length: 12 }, (_, i) => ({ key: `bulk/p${String(i).padStart(2, '0')}` }));
    refs.push({ key: 'bulk/missing' }, { key: 'app/url', version: '1' } as { key: string });
    const values = await c.getValues!(refs);
    for (let i = 0; i < 12; i++) assert.equal(text(values[i]), `pv-${i}`);
    assert.ok(isNotFound(values[12]));
    assert.equal(text(values[13]), 'https://example.test');
    assert.deepEqual(countBy(rec.calls), { GetParameters: 2, GetParameter: 1 });
    console.log(`[aws] ParameterStore getValues(14 refs): ${JSON.stringify(countBy(rec.calls))}`);
  });

  test('find by path (recursive, decrypted), by name regexp, by tags', async () => {
    const rec = recorder();
    const c = await store({ service: 'ParameterStore' }, context(rec));
    const byPath = await c.findValues({ path: `/${run}/app` });
    assert.deepEqual([...byPath.keys()].sort(), [`/${run}/app/nested/deep`, `/${run}/app/secret`, `/${run}/app/url`]);
    assert.equal(text(byPath.get(`/${run}/app/secret`)), 'ssm-s3cr3t');
    assert.ok(rec.calls.every((op) => op === 'GetParametersByPath'));

    const byName = await c.findValues({ path: `/${run}/`, name: { regexp: '/(url|deep)$' } });
    assert.deepEqual([...byName.keys()].sort(), [`/${run}/app/nested/deep`, `/${run}/app/url`]);

    rec.calls.length = 0;
    const byTags = await c.findValues({ tags: { team: 'payments' }, path: `/${run}` });
    assert.deepEqual([...byTags.keys()].sort(), [`/${run}/app/secret`, `/${run}/app/url`]);
    assert.equal(text(byTags.get(`/${run}/app/url`)), 'https://example.test/v2');
    assert.deepEqual(countBy(rec.calls), { DescribeParameters: 1, GetParameters: 1 });

    const byTagsAndName = await c.findValues({ tags: { team: 'payments' }, path: `/${run}`, name: { regexp: 'secret' } });
    assert.deepEqual([...byTagsAndName.keys()], [`/${run}/app/secret`]);
  });

  test('validate() succeeds against moto', async () => {
    const c = await store({ service: 'ParameterStore' });
    await c.validate();
  });
});

describe('auth', () => {
  const keys: Record<string, string> = { 'aws-creds/id': 'AKIAIOSFODNN7EXAMPLE', 'aws-creds/secret': 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'aws-creds/token': 'session-token' };
  const readSecretKey = async (ref: SecretKeySelector) => {
    const v = keys[`${ref.name}/${ref.key}`];
    if (v === undefined) throw new ProviderError('BadCredentials', `secret ${ref.name} has no key ${ref.key}`);
    return v;
  };
  const secretRefAuth = {
    secretRef: {
      accessKeyIDSecretRef: { name: 'aws-creds', key: 'id' },
      secretAccessKeySecretRef: { name: 'aws-creds', key: 'secret' },
      sessionTokenSecretRef: { name: 'aws-creds', key: 'token' },
    },
  };

  test('auth.secretRef: static keys read through ctx.readSecretKey', async () => {
    // Without AWS keys in the environment, so only the secretRef can authenticate.
    const bare = { AWS_ENDPOINT_URL: env.AWS_ENDPOINT_URL, AWS_REGION: env.AWS_REGION };
    const ctx = context(recorder(), { readSecretKey }, bare);
    const creds = await storeCredentials({ service: 'SecretsManager', auth: secretRefAuth }, ctx, bare, stsFactory({ region: env.AWS_REGION, env: bare }));
    assert.deepEqual(await creds!(), { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', sessionToken: 'session-token' });
    const c = await store({ service: 'SecretsManager', auth: secretRefAuth }, ctx);
    assert.equal(text(await c.getValue({ key: `${run}/db/user` })), 'app');
  });

  test('auth.secretRef: a missing key fails newClient with BadCredentials, naming the field', async () => {
    const ctx = context(recorder(), { readSecretKey });
    const config: AWSProvider = { service: 'SecretsManager', auth: { secretRef: { ...secretRefAuth.secretRef, accessKeyIDSecretRef: { name: 'aws-creds', key: 'nope' } } } };
    await assert.rejects(awsProvider.newClient(config, ctx), (err: unknown) => {
      assert.ok(err instanceof ProviderError);
      assert.equal(err.kind, 'BadCredentials');
      assert.match(err.message, /nope/);
      assert.doesNotMatch(err.message, /wJalrXUtnFEMI/);
      return true;
    });
  });

  test('role: additionalRoles then role assumed through STS with externalID and session tags', async () => {
    const rec = recorder();
    const role = `arn:aws:iam::123456789012:role/${run}-reader`;
    const hop = `arn:aws:iam::123456789012:role/${run}-hop`;
    const c = await store(
      {
        service: 'SecretsManager',
        auth: secretRefAuth,
        role,
        additionalRoles: [hop],
        externalID: `${run}-ext`,
        sessionTags: [{ key: 'team', value: 'payments' }],
        transitiveTagKeys: ['team'],
      },
      context(rec, { readSecretKey }),
    );
    assert.equal(text(await c.getValue({ key: `${run}/db/user` })), 'app');
    assert.equal(text(await c.getValue({ key: `${run}/db/password` })), 's3cr3t-db');
    // Credentials are cached: two reads, one AssumeRole per role.
    // Calls are reported as they complete; credentials are cached, so one AssumeRole per role.
    assert.deepEqual(rec.calls, ['AssumeRole', 'AssumeRole', 'GetSecretValue', 'GetSecretValue']);
    const assumed = (await motoAssumedRoles()).filter((r) => r.role_arn === role || r.role_arn === hop);
    assert.deepEqual(assumed.map((r) => r.role_arn), [hop, role], 'hop first, then role');
    assert.equal(assumed[1]!.external_id, `${run}-ext`);
    assert.equal(assumed[0]!.external_id, null);
  });

  test('jwt: AssumeRoleWithWebIdentity with a service-account token (IRSA annotation, default audience)', async () => {
    const rec = recorder();
    const role = `arn:aws:iam::123456789012:role/${run}-irsa`;
    const tokenRequests: unknown[] = [];
    const ctx = context(rec, {
      readServiceAccountAnnotations: async (ref) => {
        assert.equal(ref.name, 'eso-reader');
        return { 'eks.amazonaws.com/role-arn': role };
      },
      createServiceAccountToken: async (ref) => {
        tokenRequests.push(ref);
        // moto does not verify the token; a JWT-shaped string like the apiserver issues.
        return 'eyJhbGciOiJSUzI1NiIsImtpZCI6InRlc3QifQ.eyJpc3MiOiJodHRwczovL2t1YmVybmV0ZXMuZGVmYXVsdC5zdmMiLCJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGVmYXVsdDplc28tcmVhZGVyIiwiYXVkIjpbInN0cy5hbWF6b25hd3MuY29tIl19.c2lnbmF0dXJl';
      },
    });
    const bare = { AWS_ENDPOINT_URL: env.AWS_ENDPOINT_URL, AWS_REGION: env.AWS_REGION };
    const c = await store({ service: 'ParameterStore', auth: { jwt: { serviceAccountRef: { name: 'eso-reader', audiences: ['extra'] } } } }, { ...ctx, env: bare });
    assert.equal(text(await c.getValue({ key: `/${run}/app/secret` })), 'ssm-s3cr3t');
    assert.deepEqual(tokenRequests, [{ name: 'eso-reader', namespace: undefined, audiences: ['sts.amazonaws.com', 'extra'] }]);
    assert.deepEqual(rec.calls, ['AssumeRoleWithWebIdentity', 'GetParameter']);
    const assumed = (await motoAssumedRoles()).filter((r) => r.role_arn === role);
    assert.equal(assumed.length, 1);
    assert.equal(assumed[0]!.session_name, 'tessera-provider-aws');
  });

  test('jwt without the IRSA annotation uses spec.role as the web-identity role', async () => {
    const role = `arn:aws:iam::123456789012:role/${run}-web`;
    const ctx = context(recorder(), { createServiceAccountToken: async () => 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' });
    const c = await store({ service: 'SecretsManager', role, auth: { jwt: { serviceAccountRef: { name: 'sa' } } } }, ctx);
    await c.validate();
    assert.equal((await motoAssumedRoles()).filter((r) => r.role_arn === role).length, 1);
  });
});

describe('endpoints and failures', () => {
  test('AWS_ENDPOINT_URL_SECRETS_MANAGER from ctx.env wins over AWS_ENDPOINT_URL', async () => {
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const c = await store({ service: 'SecretsManager' }, context(recorder(), {}, { ...env, AWS_ENDPOINT_URL: dead, AWS_ENDPOINT_URL_SECRETS_MANAGER: env.AWS_ENDPOINT_URL }));
    assert.equal(text(await c.getValue({ key: `${run}/db/user` })), 'app');
  });

  test('an unreachable endpoint fails fast as Unreachable', async () => {
    const dead = `http://127.0.0.1:${await closedPort()}`;
    for (const service of ['SecretsManager', 'ParameterStore'] as const) {
      const c = await store({ service }, context(recorder(), {}, { ...env, AWS_ENDPOINT_URL: dead }));
      const t0 = Date.now();
      await assert.rejects(c.getValue({ key: 'anything' }), (err: unknown) => {
        assert.ok(err instanceof ProviderError, String(err));
        assert.equal(err.kind, 'Unreachable');
        assert.equal(err.retryable, true);
        assert.match(err.message, /ECONNREFUSED/);
        return true;
      });
      const elapsed = Date.now() - t0;
      assert.ok(elapsed < 5000, `took ${elapsed} ms`);
      console.log(`[aws] ${service} unreachable endpoint failed in ${elapsed} ms`);
      await assert.rejects(c.validate(), (err: unknown) => err instanceof ProviderError && err.kind === 'Unreachable');
    }
  });

  test('an endpoint that accepts connections but never answers times out (3 attempts × 5 s)', async () => {
    // The SDK only warns on requestTimeout unless told to throw; this guards that setting.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => sockets.add(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
      const c = await store({ service: 'SecretsManager' }, context(recorder(), {}, { ...env, AWS_ENDPOINT_URL: url }));
      const t0 = Date.now();
      await assert.rejects(c.getValue({ key: 'anything' }), (err: unknown) => err instanceof ProviderError && err.kind === 'Unreachable' && /ETIMEDOUT/.test(err.message));
      const elapsed = Date.now() - t0;
      assert.ok(elapsed < 20_000, `took ${elapsed} ms`);
      console.log(`[aws] silent endpoint failed in ${elapsed} ms`);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  test('STS unreachable while assuming a role surfaces as Unreachable', async () => {
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const c = await store({ service: 'SecretsManager', role: 'arn:aws:iam::123456789012:role/x' }, context(recorder(), {}, { ...env, AWS_ENDPOINT_URL_STS: dead }));
    await assert.rejects(c.getValue({ key: `${run}/db/user` }), (err: unknown) => {
      assert.ok(err instanceof ProviderError);
      assert.equal(err.kind, 'Unreachable');
      assert.match(err.message, /STS AssumeRole/);
      return true;
    });
  });

  test('region is required when neither the store nor the environment has one', async () => {
    await assert.rejects(
      awsProvider.newClient({ service: 'SecretsManager' }, context(recorder(), {}, { AWS_ENDPOINT_URL: env.AWS_ENDPOINT_URL })),
      (err: unknown) => err instanceof ProviderError && err.kind === 'InvalidRequest' && /spec\.provider\.aws\.region/.test(err.message),
    );
  });
});

function countBy(calls: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of calls) out[c] = (out[c] ?? 0) + 1;
  return out;
}
