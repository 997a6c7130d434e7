// SSH keys in OpenSSH's formats (checked by ssh-keygen itself), and UUIDs of version 4.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSshKey } from '../../../src/generators/sshkey.ts';
import { generate, type GeneratorDeps } from '../../../src/generators/index.ts';

/** ssh-keygen -y derives the public key from the private one: it must parse the key and agree. */
function publicFromPrivate(privateKey: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-sshkey-'));
  try {
    const file = join(dir, 'id');
    writeFileSync(file, privateKey, { mode: 0o600 });
    return execFileSync('ssh-keygen', ['-y', '-f', file], { encoding: 'utf8' }).trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const [keyType, keySize, prefix] of [['ed25519', undefined, 'ssh-ed25519'], ['rsa', 2048, 'ssh-rsa'], ['ecdsa', 384, 'ecdsa-sha2-nistp384'], ['ecdsa', undefined, 'ecdsa-sha2-nistp256']] as const) {
  test(`${keyType}${keySize ? ` ${keySize}` : ''}: an OpenSSH private key ssh-keygen reads, and its authorized_keys line with the comment`, async () => {
    const out = await generateSshKey({ keyType, keySize, comment: 'deploy@tessera' });
    const priv = Buffer.from(out['privateKey']!).toString();
    const pub = Buffer.from(out['publicKey']!).toString();
    assert.match(priv, /^-----BEGIN OPENSSH PRIVATE KEY-----\n([A-Za-z0-9+/=]{1,64}\n)+-----END OPENSSH PRIVATE KEY-----\n$/);
    assert.ok(pub.startsWith(`${prefix} `) && pub.endsWith(' deploy@tessera\n'), pub);
    const derived = publicFromPrivate(priv);
    // ssh-keygen prints the comment stored in the private key after the key.
    assert.equal(derived.split(' ').slice(0, 2).join(' '), pub.split(' ').slice(0, 2).join(' '));
    assert.equal(derived.split(' ')[2], 'deploy@tessera');
  });
}

test('RSA sizes outside 2048–4096 bits and multi-line comments are refused, naming the field', async () => {
  await assert.rejects(generateSshKey({ keyType: 'rsa', keySize: 1024 }, 'SSHKey "k" spec'), /SSHKey "k" spec\.keySize: RSA keys of 2048 to 4096 bits/);
  await assert.rejects(generateSshKey({ keyType: 'rsa', keySize: 8192 }), /keySize/);
  await assert.rejects(generateSshKey({ keyType: 'ed25519', comment: 'a\nb' }), /spec\.comment/);
});

test('no comment: the public key line has none', async () => {
  const out = await generateSshKey({ keyType: 'ed25519' });
  assert.match(Buffer.from(out['publicKey']!).toString(), /^ssh-ed25519 [A-Za-z0-9+/=]+\n$/);
});

/** In-memory generator objects (unit tier: no cluster). */
function memoryDeps(objects: Record<string, unknown>): GeneratorDeps {
  return {
    getGenerator: async (kind, namespace, name) => objects[`${kind}/${namespace ?? ''}/${name}`] as { spec?: unknown } | undefined,
    readSecret: async () => undefined,
    providerContext: () => { throw new Error('no provider context in this test'); },
  };
}

test('UUID: a fresh version 4 UUID under key "uuid" on every call', async () => {
  const deps = memoryDeps({ 'UUID/ns/u': { spec: {} } });
  const signal = new AbortController().signal;
  const a = Buffer.from((await generate(deps, 'ns', { kind: 'UUID', name: 'u' }, signal)).values['uuid']!).toString();
  const b = Buffer.from((await generate(deps, 'ns', { kind: 'UUID', name: 'u' }, signal)).values['uuid']!).toString();
  assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notEqual(a, b);
});

test('resolution: ClusterGenerator inner spec, unsupported kinds by name, missing objects', async () => {
  const signal = new AbortController().signal;
  const deps = memoryDeps({
    'ClusterGenerator//cg': { spec: { kind: 'Fake', generator: { fakeSpec: { data: { a: 'b' } } } } },
    'ClusterGenerator//acr': { spec: { kind: 'ACRAccessToken', generator: { acrAccessTokenSpec: {} } } },
  });
  const out = await generate(deps, 'ns', { apiVersion: 'generators.external-secrets.io/v1alpha1', kind: 'ClusterGenerator', name: 'cg' }, signal);
  assert.equal(Buffer.from(out.values['a']!).toString(), 'b');
  await assert.rejects(generate(deps, 'ns', { kind: 'GCRAccessToken', name: 'x' }, signal), /generator kind GCRAccessToken is not supported by this build/);
  await assert.rejects(generate(deps, 'ns', { kind: 'ClusterGenerator', name: 'acr' }, signal), /generator kind ACRAccessToken is not supported by this build/);
  await assert.rejects(generate(deps, 'ns', { kind: 'Password', name: 'nope' }, signal), /Password "nope" in namespace "ns" not found/);
  await assert.rejects(generate(deps, 'ns', { apiVersion: 'v1', kind: 'Password', name: 'p' }, signal), /generatorRef\.apiVersion/);
});

test('a generator whose spec.controller names another controller class is refused as OtherController (ESO skips the ExternalSecret)', async () => {
  const signal = new AbortController().signal;
  const objects = { 'Fake/ns/mine': { spec: { controller: 'a', data: { k: 'v' } } }, 'Fake/ns/theirs': { spec: { controller: 'b', data: { k: 'v' } } }, 'Fake/ns/any': { spec: { data: { k: 'v' } } } };
  const deps = { ...memoryDeps(objects), controllerClass: 'a' };
  assert.equal(Buffer.from((await generate(deps, 'ns', { kind: 'Fake', name: 'mine' }, signal)).values['k']!).toString(), 'v');
  assert.equal(Buffer.from((await generate(deps, 'ns', { kind: 'Fake', name: 'any' }, signal)).values['k']!).toString(), 'v');
  await assert.rejects(generate(deps, 'ns', { kind: 'Fake', name: 'theirs' }, signal), (e: unknown) => (e as { reason?: string }).reason === 'OtherController');
});
