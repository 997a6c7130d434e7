// ESO's path rules (providers/v1/vault/client_get.go buildPath / buildMetadataPath).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dataPath, encodePath, metadataPath } from '../../../../src/providers/vault/paths.ts';
import { ProviderError } from '../../../../src/providers/provider.ts';

test('dataPath with a store path (mount)', () => {
  assert.equal(dataPath('secret/path', 'v2', 'foo'), 'secret/path/data/foo');
  assert.equal(dataPath('secret/path', 'v1', 'foo'), 'secret/path/foo');
  assert.equal(dataPath('secret/path', 'v2', 'secret/path/foo'), 'secret/path/data/foo');
  assert.equal(dataPath('secret/path', 'v2', 'secret/path/data/foo'), 'secret/path/data/foo');
  assert.equal(dataPath('secret/path', 'v1', 'secret/path/foo'), 'secret/path/foo');
  assert.equal(dataPath('secret', 'v1', 'secret/data/foo'), 'secret/data/foo', 'v1 keeps a data/ segment');
});

test('dataPath without a store path: the first segment is the mount', () => {
  assert.equal(dataPath(undefined, 'v2', 'secret/path/foo'), 'secret/data/path/foo');
  assert.equal(dataPath(undefined, 'v2', 'secret/path/data/foo'), 'secret/path/data/foo');
  assert.equal(dataPath(undefined, 'v1', 'secret/path/foo'), 'secret/path/foo');
  assert.equal(dataPath(undefined, 'v2', 'secret'), 'secret/data');
});

test('metadataPath', () => {
  assert.equal(metadataPath('secret', 'v2', 'app/db'), 'secret/metadata/app/db');
  assert.equal(metadataPath('secret', 'v2', 'secret/data/app/db'), 'secret/metadata/app/db');
  assert.equal(metadataPath(undefined, 'v2', 'secret/data/app/db'), 'secret/metadata/app/db');
  assert.equal(metadataPath('kv', 'v1', 'kv/app'), 'kv/app');
  assert.throws(() => metadataPath(undefined, 'v2', 'secret/app'), (e: unknown) => e instanceof ProviderError && e.kind === 'InvalidRequest');
});

test('encodePath keeps slashes and escapes segments', () => {
  assert.equal(encodePath('secret/data/a b/c?d'), 'secret/data/a%20b/c%3Fd');
});

test('encodePath refuses "." and ".." segments, which URL parsing would resolve out of the mount', () => {
  assert.equal(new URL(`http://v/v1/${encodePath('secret/data/a')}`).pathname, '/v1/secret/data/a');
  for (const p of ['secret/data/../../sys/raw/x', 'secret/data/./x', '..', 'secret/..']) {
    assert.throws(() => encodePath(p), /contains a "\." or "\.\." segment/);
  }
  // Dots inside a segment are names, not navigation.
  assert.equal(encodePath('secret/data/a..b/.env'), 'secret/data/a..b/.env');
});

test('a leading "/" (ESO docs write `key: /dev/config`) ends where Vault\'s path cleaning takes ESO\'s request', () => {
  // ESO joins "secret" + "data" + "/dev/config" into secret/data//dev/config; Vault redirects to the clean path.
  assert.equal(dataPath('secret', 'v2', '/dev/config'), 'secret/data/dev/config');
  assert.equal(dataPath('secret', 'v1', '/dev/config'), 'secret/dev/config');
  assert.equal(metadataPath('secret', 'v2', '/dev/config'), 'secret/metadata/dev/config');
  // "/secret/x" does not start with "secret/", so the mount is not cut: secret/data//secret/x in ESO.
  assert.equal(dataPath('secret', 'v2', '/secret/x'), 'secret/data/secret/x');
  // Without a store path ESO's first segment is "" and "data" follows it: /data/dev/config.
  assert.equal(dataPath(undefined, 'v2', '/dev/config'), 'data/dev/config');
  assert.equal(dataPath(undefined, 'v2', '/secret/data/dev/config'), 'secret/data/dev/config');
  assert.equal(metadataPath(undefined, 'v2', '/secret/data/dev/config'), 'secret/metadata/dev/config');
  assert.equal(dataPath('secret', 'v2', 'a//b/'), 'secret/data/a/b');
});
