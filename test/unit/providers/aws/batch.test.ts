// Batch reads and their fallback, on the real SDK clients. A middleware at the front of each
// client's stack answers commands in-process (no network), so what the provider sends — which
// command, with which input, how often — is observed exactly as the SDK would send it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as smSdk from '@aws-sdk/client-secrets-manager';
import * as ssmSdk from '@aws-sdk/client-ssm';
import { SecretsManagerReader } from '../../../../src/providers/aws/secretsmanager.ts';
import { ParameterStoreReader } from '../../../../src/providers/aws/parameterstore.ts';
import { countApiCalls } from '../../../../src/providers/aws/sdk.ts';
import { ProviderError, isNotFound } from '../../../../src/providers/provider.ts';
import type { RemoteValue } from '../../../../src/providers/provider.ts';

type Answer = (command: string, input: Record<string, unknown>) => unknown;

interface Sent {
  command: string;
  input: Record<string, unknown>;
}

function fakeAnswers<C extends { middlewareStack: { add: (...args: never[]) => void } }>(client: C, sent: Sent[], answer: Answer): void {
  (client.middlewareStack as unknown as { add(mw: unknown, opts: unknown): void }).add(
    (_next: unknown, context: { commandName: string }) => async (args: { input: Record<string, unknown> }) => {
      const command = context.commandName.replace(/Command$/, '');
      sent.push({ command, input: structuredClone(args.input) });
      return { output: { $metadata: {}, ...(answer(command, args.input) as object) }, response: {} };
    },
    { step: 'initialize', name: 'fakeAnswers', priority: 'low' },
  );
}

function smError(name: string, message = `${name}`): smSdk.SecretsManagerServiceException {
  return new smSdk.SecretsManagerServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: 400 }, message });
}

const text = (v: RemoteValue | Error | undefined) => {
  if (!v || v instanceof Error) throw v ?? new Error('missing');
  return Buffer.from(v.value).toString();
};

const arn = (name: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`;

/** A Secrets Manager "account" with secrets named s00..s99, s13 denied, s66 binary. */
function secretsManager(opts: { batch?: 'ok' | 'denied' | 'throttled' } = {}) {
  const client = new smSdk.SecretsManagerClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  const sent: Sent[] = [];
  const counted: string[] = [];
  countApiCalls(client, 'secretsmanager', (op, detail) => counted.push(`${op}:${detail?.status}`));
  const exists = (id: string) => /^s\d\d$/.test(id) || /^arn:.*:secret:s\d\d-AbCdEf$/.test(id);
  const nameOf = (id: string) => (id.startsWith('arn:') ? id.replace(/^.*:secret:(s\d\d)-AbCdEf$/, '$1') : id);
  const entry = (name: string) => (name === 's66' ? { Name: name, ARN: arn(name), SecretBinary: new Uint8Array([6, 6]) } : { Name: name, ARN: arn(name), SecretString: `value-${name}` });
  fakeAnswers(client, sent, (command, input) => {
    if (command === 'BatchGetSecretValue') {
      if (opts.batch === 'denied') throw smError('AccessDeniedException', 'not authorized to perform secretsmanager:BatchGetSecretValue');
      if (opts.batch === 'throttled') throw smError('ThrottlingException', 'Rate exceeded');
      const ids = input.SecretIdList as string[];
      assert.ok(ids.length <= 20, `batch of ${ids.length}`);
      return {
        SecretValues: ids.filter((id) => exists(id) && nameOf(id) !== 's13').map((id) => entry(nameOf(id))),
        Errors: ids
          .filter((id) => !exists(id) || nameOf(id) === 's13')
          .map((id) => (exists(id) ? { SecretId: id, ErrorCode: 'AccessDeniedException', Message: 'denied' } : { SecretId: id, ErrorCode: 'ResourceNotFoundException', Message: "can't find" })),
      };
    }
    if (command === 'GetSecretValue') {
      const id = input.SecretId as string;
      if (!exists(id)) throw smError('ResourceNotFoundException');
      if (nameOf(id) === 's13') throw smError('AccessDeniedException');
      if (input.VersionId) return { ...entry(nameOf(id)), SecretString: `value-${nameOf(id)}@${input.VersionId}` };
      if (input.VersionStage && input.VersionStage !== 'AWSCURRENT') return { ...entry(nameOf(id)), SecretString: `value-${nameOf(id)}@${input.VersionStage}` };
      return entry(nameOf(id));
    }
    if (command === 'DescribeSecret') return { Name: input.SecretId, Tags: [{ Key: 'b', Value: '2' }, { Key: 'a', Value: '1' }] };
    if (command === 'ListSecrets') return { SecretList: [] };
    throw new Error(`unexpected ${command}`);
  });
  return { reader: new SecretsManagerReader(smSdk, client), sent, counted, commands: () => sent.map((s) => s.command) };
}

const keys = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ key: `s${String(from + i).padStart(2, '0')}` }));

function countBy(items: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[i] = (out[i] ?? 0) + 1;
  return out;
}

describe('Secrets Manager getValues', () => {
  test('45 keys → 3 BatchGetSecretValue calls of at most 20 ids, results in order', async () => {
    const { reader, sent, counted } = secretsManager();
    const values = await reader.getValues(keys(45, 20));
    assert.deepEqual(countBy(sent.map((s) => s.command)), { BatchGetSecretValue: 3 });
    assert.deepEqual(sent.map((s) => (s.input.SecretIdList as string[]).length).sort(), [20, 20, 5]);
    assert.deepEqual(counted, ['BatchGetSecretValue:success', 'BatchGetSecretValue:success', 'BatchGetSecretValue:success']);
    for (let i = 0; i < 45; i++) {
      const name = `s${i + 20}`;
      if (name === 's66') assert.deepEqual([...(values[i] as RemoteValue).value], [6, 6]);
      else assert.equal(text(values[i]), `value-${name}`);
    }
  });

  test('per-id batch errors are mapped per ref; duplicates are read once', async () => {
    const { reader, sent } = secretsManager();
    const values = await reader.getValues([{ key: 's01' }, { key: 'missing' }, { key: 's13' }, { key: 's01' }, { key: arn('s02') }]);
    assert.equal(text(values[0]), 'value-s01');
    assert.ok(isNotFound(values[1]));
    assert.ok(values[2] instanceof ProviderError && values[2].kind === 'AccessDenied');
    assert.match((values[2] as Error).message, /BatchGetSecretValue "s13": access denied \(AccessDeniedException: denied\)/);
    assert.equal(text(values[3]), 'value-s01');
    assert.equal(text(values[4]), 'value-s02');
    assert.deepEqual(sent.map((s) => s.input.SecretIdList), [['s01', 'missing', 's13', arn('s02')]]);
  });

  test('versions and metadata are read one by one with the right request fields', async () => {
    const { reader, sent } = secretsManager();
    const values = await reader.getValues([
      { key: 's01', version: 'uuid/1111' },
      { key: 's01', version: 'AWSPREVIOUS' },
      { key: 's02', metadataPolicy: 'Fetch' },
      { key: 's03' },
    ]);
    assert.deepEqual(values.map(text), ['value-s01@1111', 'value-s01@AWSPREVIOUS', '{"a":"1","b":"2"}', 'value-s03']);
    const byCommand = (c: string) => sent.filter((s) => s.command === c).map((s) => s.input);
    assert.deepEqual(byCommand('GetSecretValue'), [
      { SecretId: 's01', VersionId: '1111' },
      { SecretId: 's01', VersionStage: 'AWSPREVIOUS' },
    ]);
    assert.deepEqual(byCommand('DescribeSecret'), [{ SecretId: 's02' }]);
    assert.deepEqual(byCommand('BatchGetSecretValue'), [{ SecretIdList: ['s03'] }]);
  });

  test('batch denied → GetSecretValue per key, and batch is not tried again by this client', async () => {
    const { reader, commands, counted } = secretsManager({ batch: 'denied' });
    const first = await reader.getValues(keys(25));
    assert.equal(first.length, 25);
    assert.equal(text(first[0]), 'value-s00');
    assert.ok(first[13] instanceof ProviderError && first[13].kind === 'AccessDenied');
    // Both chunks may have been in flight before the denial was known; no more than that.
    const firstRound = countBy(commands());
    assert.ok(firstRound.BatchGetSecretValue! >= 1 && firstRound.BatchGetSecretValue! <= 2, JSON.stringify(firstRound));
    assert.equal(firstRound.GetSecretValue, 25);
    assert.ok(counted.includes('BatchGetSecretValue:error'));
    assert.equal(reader.batchDenied, true);

    const before = commands().length;
    const second = await reader.getValues(keys(25));
    assert.equal(text(second[24]), 'value-s24');
    assert.deepEqual(countBy(commands().slice(before)), { GetSecretValue: 25 });
  });

  test('a throttled batch fails its refs as Throttled (retryable), without a per-key storm', async () => {
    const { reader, commands } = secretsManager({ batch: 'throttled' });
    const values = await reader.getValues(keys(3));
    for (const v of values) assert.ok(v instanceof ProviderError && v.kind === 'Throttled' && v.retryable);
    assert.deepEqual(commands(), ['BatchGetSecretValue']);
    assert.equal(reader.batchDenied, false);
  });

  test('getValue maps errors and never puts a value into a message', async () => {
    const { reader } = secretsManager();
    await assert.rejects(reader.getValue({ key: 'missing' }), (err: unknown) => isNotFound(err) && /GetSecretValue "missing": not found/.test((err as Error).message));
    await assert.rejects(reader.getValue({ key: 's13' }), (err: unknown) => err instanceof ProviderError && err.kind === 'AccessDenied' && !/value-/.test(err.message));
  });
});

describe('Parameter Store getValues', () => {
  function parameterStore(opts: { batch?: 'ok' | 'denied' } = {}) {
    const client = new ssmSdk.SSMClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    const sent: Sent[] = [];
    const exists = (n: string) => /^\/p\/\d\d$/.test(n);
    fakeAnswers(client, sent, (command, input) => {
      if (command === 'GetParameters') {
        if (opts.batch === 'denied') throw new ssmSdk.SSMServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: {}, message: 'no ssm:GetParameters' });
        const names = input.Names as string[];
        assert.ok(names.length <= 10);
        return { Parameters: names.filter(exists).map((Name) => ({ Name, Value: `pv${Name}` })), InvalidParameters: names.filter((n) => !exists(n)) };
      }
      if (command === 'GetParameter') {
        const [name, version] = (input.Name as string).split(':');
        if (!exists(name!)) throw new ssmSdk.ParameterNotFound({ $metadata: {}, message: '' });
        assert.equal(input.WithDecryption, true);
        return { Parameter: { Name: name, Value: `pv${name}${version ? `@${version}` : ''}` } };
      }
      throw new Error(`unexpected ${command}`);
    });
    return { reader: new ParameterStoreReader(ssmSdk, client, { prefix: '/p/' }), sent };
  }
  const names = (n: number) => Array.from({ length: n }, (_, i) => ({ key: String(i).padStart(2, '0') }));

  test('23 names → 3 GetParameters calls; versions by GetParameter; missing → NotFound', async () => {
    const { reader, sent } = parameterStore();
    const values = await reader.getValues([...names(23), { key: 'zz' }, { key: '01', version: '4' }]);
    assert.equal(text(values[22]), 'pv/p/22');
    assert.ok(isNotFound(values[23]));
    assert.equal(text(values[24]), 'pv/p/01@4');
    assert.deepEqual(countBy(sent.map((s) => s.command)), { GetParameters: 3, GetParameter: 1 });
    assert.ok(sent.filter((s) => s.command === 'GetParameters').every((s) => s.input.WithDecryption === true));
  });

  test('find: GetParametersByPath denied → DescribeParameters + GetParameters (as ESO falls back)', async () => {
    const client = new ssmSdk.SSMClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    const sent: Sent[] = [];
    fakeAnswers(client, sent, (command, input) => {
      if (command === 'GetParametersByPath') throw new ssmSdk.SSMServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: {}, message: 'no' });
      if (command === 'DescribeParameters') return { Parameters: [{ Name: '/app/a' }, { Name: '/app/b' }, { Name: '/app/skip' }] };
      if (command === 'GetParameters') return { Parameters: (input.Names as string[]).map((Name) => ({ Name, Value: `v${Name}` })) };
      throw new Error(`unexpected ${command}`);
    });
    const reader = new ParameterStoreReader(ssmSdk, client);
    const found = await reader.findValues({ path: '/app/', name: { regexp: '/(a|b)$' } });
    assert.deepEqual([...found.entries()].map(([k, v]) => [k, text(v)]), [['/app/a', 'v/app/a'], ['/app/b', 'v/app/b']]);
    assert.deepEqual(sent.map((s) => s.command), ['GetParametersByPath', 'DescribeParameters', 'GetParameters']);
    assert.deepEqual(sent[0]!.input, { Path: '/app', Recursive: true, WithDecryption: true, MaxResults: 10 });
    assert.deepEqual(sent[1]!.input.ParameterFilters, [{ Key: 'Path', Option: 'Recursive', Values: ['/app'] }]);
    assert.deepEqual(sent[2]!.input, { Names: ['/app/a', '/app/b'], WithDecryption: true });
  });

  test('GetParameters denied → GetParameter per name, remembered', async () => {
    const { reader, sent } = parameterStore({ batch: 'denied' });
    const first = await reader.getValues(names(3));
    assert.deepEqual(first.map(text), ['pv/p/00', 'pv/p/01', 'pv/p/02']);
    assert.deepEqual(countBy(sent.map((s) => s.command)), { GetParameters: 1, GetParameter: 3 });
    sent.length = 0;
    await reader.getValues(names(3));
    assert.deepEqual(countBy(sent.map((s) => s.command)), { GetParameter: 3 });
  });
});
