import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonWebKeyJson, metadataJson, parseObjectRef, tagsMatch } from '../../../../src/providers/azure/refs.ts';
import { ProviderError } from '../../../../src/providers/provider.ts';

test('remoteRef.key names a secret, a key or a certificate as ESO splits it', () => {
  assert.deepEqual(parseObjectRef('db', undefined), { type: 'secret', name: 'db', version: undefined });
  assert.deepEqual(parseObjectRef('secret/db', 'abc123'), { type: 'secret', name: 'db', version: 'abc123' });
  assert.deepEqual(parseObjectRef('key/signing', ''), { type: 'key', name: 'signing', version: undefined });
  assert.deepEqual(parseObjectRef('cert/tls', 'latest'), { type: 'cert', name: 'tls', version: undefined });
  // Later segments are ignored, as in ESO's getObjType.
  assert.deepEqual(parseObjectRef('secret/db/extra', undefined), { type: 'secret', name: 'db', version: undefined });
});

test('unknown prefixes, hostile names and versions are refused before any request', () => {
  const refused = (key: string, version: string | undefined, message: RegExp) =>
    assert.throws(() => parseObjectRef(key, version), (e: unknown) => e instanceof ProviderError && e.kind === 'InvalidRequest' && message.test(e.message));
  refused('blob/x', undefined, /unknown Azure Key Vault object type "blob"/);
  refused('secret/..', undefined, /1-127 letters, digits and dashes/);
  refused('a%2Fb', undefined, /1-127 letters, digits and dashes/);
  refused('x'.repeat(128), undefined, /1-127/);
  refused('', undefined, /1-127/);
  refused('db', '../other', /remoteRef\.version/);
  refused('db', 'v'.repeat(65), /remoteRef\.version/);
});

test('metadata: tags and attribute.* timestamps (RFC 3339, seconds, UTC), keys sorted as Go does', () => {
  const json = metadataJson({
    tags: { team: 'payments', env: 'prod' },
    createdOn: new Date('2024-01-02T03:04:05.678Z'),
    updatedOn: new Date('2024-02-03T04:05:06Z'),
    expiresOn: undefined,
    notBefore: new Date('invalid'),
  });
  assert.equal(json, '{"attribute.created":"2024-01-02T03:04:05Z","attribute.updated":"2024-02-03T04:05:06Z","env":"prod","team":"payments"}');
  assert.equal(metadataJson({}), '{}');
});

test('a key is Key Vault wire JSON: RFC 7517 names, base64url without padding, ESO field order', () => {
  const json = jsonWebKeyJson({ kty: 'RSA', kid: 'https://v/keys/k/1', keyOps: ['sign'], n: new Uint8Array([0xfb, 0xff]), e: new Uint8Array([1, 0, 1]) });
  assert.equal(json, '{"kid":"https://v/keys/k/1","kty":"RSA","key_ops":["sign"],"n":"-_8","e":"AQAB"}');
  const ec = jsonWebKeyJson({ kty: 'EC', crv: 'P-256', x: new Uint8Array([1]), y: new Uint8Array([2]), t: new Uint8Array([3]) });
  assert.equal(ec, '{"kty":"EC","key_hsm":"Aw","crv":"P-256","x":"AQ","y":"Ag"}');
});

test('find.tags: every pair present with exactly that value', () => {
  assert.equal(tagsMatch({ a: '1', b: '2' }, [['a', '1']]), true);
  assert.equal(tagsMatch({ a: '1' }, [['a', '2']]), false);
  assert.equal(tagsMatch(undefined, [['a', '1']]), false);
  assert.equal(tagsMatch(undefined, []), true);
  // Inherited properties are not tags.
  assert.equal(tagsMatch({}, [['toString', 'x']]), false);
});
