import { it } from 'node:test';
import assert from 'node:assert/strict';
import { fakeProvider } from '../../../../src/providers/fake/index.ts';
import { isNotFound, type ProviderContext } from '../../../../src/providers/provider.ts';

const ctx = {} as ProviderContext;
const text = (v: { value: Uint8Array }) => Buffer.from(v.value).toString('utf8');

it('serves declared values by key and version, valueMap as JSON, find by path and regexp', async () => {
  const config = {
    data: [
      { key: '/db/user', value: 'app' },
      { key: '/db/user', value: 'old-app', version: 'v1' },
      { key: '/db/settings', valueMap: { host: 'db', port: '5432' } },
      { key: '/cache/url', value: 'redis://c' },
    ],
  };
  assert.deepEqual(fakeProvider.validateConfig(config), []);
  const c = await fakeProvider.newClient(config, ctx);
  assert.equal(text(await c.getValue({ key: '/db/user' })), 'app');
  assert.equal(text(await c.getValue({ key: '/db/user', version: 'v1' })), 'old-app');
  assert.deepEqual(JSON.parse(text(await c.getValue({ key: '/db/settings' }))), { host: 'db', port: '5432' });
  const unordered = await fakeProvider.newClient({ data: [{ key: 'm', valueMap: { z: '<1>', a: '2' } }] }, ctx);
  assert.equal(text(await unordered.getValue({ key: 'm' })), '{"a":"2","z":"\\u003c1\\u003e"}', 'Go JSON: sorted keys, HTML escaped (JSON.stringify kept insertion order)');
  await assert.rejects(c.getValue({ key: '/nope' }), (e: unknown) => isNotFound(e));
  await assert.rejects(c.getValue({ key: '/db/user', version: 'v9' }), (e: unknown) => isNotFound(e));
  assert.deepEqual([...(await c.findValues({ path: '/db/' })).keys()], ['/db/user', '/db/settings']);
  assert.deepEqual([...(await c.findValues({ name: { regexp: 'url$' } })).keys()], ['/cache/url']);
  assert.deepEqual(fakeProvider.validateConfig({ data: [{ key: '' }] as never }), ['spec.provider.fake.data[0].key: required', 'spec.provider.fake.data[0]: one of value or valueMap is required']);
});
