import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chunk,
  endpointFromEnv,
  mapLimit,
  parameterSelector,
  regionFrom,
  secretsManagerVersion,
  tagsToJson,
} from '../../../../src/providers/aws/refs.ts';
import { entryMatchesId } from '../../../../src/providers/aws/secretsmanager.ts';
import { parameterPath } from '../../../../src/providers/aws/parameterstore.ts';
import { ProviderError } from '../../../../src/providers/provider.ts';

describe('secretsManagerVersion', () => {
  test('defaults to the AWSCURRENT stage', () => {
    assert.deepEqual(secretsManagerVersion(undefined), { VersionStage: 'AWSCURRENT' });
    assert.deepEqual(secretsManagerVersion(''), { VersionStage: 'AWSCURRENT' });
  });
  test('uuid/<id> selects a VersionId', () => {
    assert.deepEqual(secretsManagerVersion('uuid/123e4567-e89b-12d3-a456-426614174000'), { VersionId: '123e4567-e89b-12d3-a456-426614174000' });
  });
  test('anything else is a staging label', () => {
    assert.deepEqual(secretsManagerVersion('AWSPREVIOUS'), { VersionStage: 'AWSPREVIOUS' });
    assert.deepEqual(secretsManagerVersion('my-label'), { VersionStage: 'my-label' });
    // Only the exact "uuid/" prefix selects an id, as in ESO.
    assert.deepEqual(secretsManagerVersion('UUID/abc'), { VersionStage: 'UUID/abc' });
  });
});

describe('parameterSelector', () => {
  test('appends the version or label after a colon', () => {
    assert.equal(parameterSelector('/app/db', undefined), '/app/db');
    assert.equal(parameterSelector('/app/db', ''), '/app/db');
    assert.equal(parameterSelector('/app/db', '3'), '/app/db:3');
    assert.equal(parameterSelector('/app/db', 'prod'), '/app/db:prod');
  });
});

describe('parameterPath', () => {
  test('drops a trailing slash except for the root', () => {
    assert.equal(parameterPath('/'), '/');
    assert.equal(parameterPath('/app/'), '/app');
    assert.equal(parameterPath('/app'), '/app');
  });
});

describe('tagsToJson', () => {
  test('sorts keys and escapes like Go encoding/json', () => {
    assert.equal(
      tagsToJson([
        { Key: 'b', Value: '2' },
        { Key: 'a', Value: '<x & y>' },
        { Key: 'Z', Value: '\u2028' },
      ]),
      '{"Z":"\\u2028","a":"\\u003cx \\u0026 y\\u003e","b":"2"}',
    );
  });
  test('accepts a map and an empty list', () => {
    assert.equal(tagsToJson({ team: 'x' }), '{"team":"x"}');
    assert.equal(tagsToJson([]), '{}');
    assert.equal(tagsToJson(undefined), '{}');
  });
});

describe('endpointFromEnv', () => {
  test('service-specific variable first, then ESO legacy, then AWS_ENDPOINT_URL', () => {
    const env = { AWS_ENDPOINT_URL: 'http://all', AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://sm', AWS_SSM_ENDPOINT: 'http://ssm-legacy' };
    assert.equal(endpointFromEnv(env, 'secretsmanager'), 'http://sm');
    assert.equal(endpointFromEnv(env, 'ssm'), 'http://ssm-legacy');
    assert.equal(endpointFromEnv(env, 'sts'), 'http://all');
    assert.equal(endpointFromEnv({}, 'sts'), undefined);
  });
  test('AWS_IGNORE_CONFIGURED_ENDPOINT_URLS disables overrides', () => {
    assert.equal(endpointFromEnv({ AWS_ENDPOINT_URL: 'http://all', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' }, 'ssm'), undefined);
  });
  test('blank values are ignored', () => {
    assert.equal(endpointFromEnv({ AWS_ENDPOINT_URL_STS: ' ', AWS_ENDPOINT_URL: 'http://all' }, 'sts'), 'http://all');
  });
});

describe('regionFrom', () => {
  test('store region, then AWS_REGION, then AWS_DEFAULT_REGION', () => {
    assert.equal(regionFrom('eu-west-1', { AWS_REGION: 'us-east-1' }), 'eu-west-1');
    assert.equal(regionFrom(undefined, { AWS_REGION: 'us-east-1', AWS_DEFAULT_REGION: 'x' }), 'us-east-1');
    assert.equal(regionFrom('', { AWS_DEFAULT_REGION: 'ap-south-1' }), 'ap-south-1');
    assert.equal(regionFrom(undefined, {}), undefined);
  });
});

describe('batch helpers', () => {
  test('chunk splits into groups of at most n', () => {
    assert.deepEqual(chunk([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
    assert.deepEqual(chunk([], 20), []);
    assert.equal(chunk(Array.from({ length: 41 }, (_, i) => i), 20).length, 3);
  });
  test('mapLimit keeps order and bounds concurrency', async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 3, 2, 4], 2, async (n) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, n));
      inFlight--;
      return n * 10;
    });
    assert.deepEqual(out, [50, 10, 30, 20, 40]);
    assert.equal(peak, 2);
  });
  test('entryMatchesId: name, full ARN and partial ARN', () => {
    const entry = { Name: 'prod/db', ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf' };
    assert.ok(entryMatchesId(entry, 'prod/db'));
    assert.ok(entryMatchesId(entry, entry.ARN));
    assert.ok(entryMatchesId(entry, 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db'));
    assert.ok(!entryMatchesId(entry, 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod'));
    assert.ok(!entryMatchesId(entry, 'prod'));
  });
});
