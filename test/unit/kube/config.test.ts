import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { kubeconfigAuth } from '../../../src/kube/config.ts';

function kubeconfig(user: Record<string, unknown>, cluster: Record<string, unknown> = { server: 'https://127.0.0.1:6443' }, current = 'c'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kc-'));
  writeFileSync(path.join(dir, 'ca.crt'), 'CA-PEM');
  writeFileSync(path.join(dir, 'token'), 'file-token\n');
  const file = path.join(dir, 'config');
  writeFileSync(file, JSON.stringify({ 'current-context': current, contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }], clusters: [{ name: 'k', cluster }], users: [{ name: 'u', user }] }));
  return file;
}

it('reads certificates and tokens from a kubeconfig, with paths relative to it', async () => {
  const a = await kubeconfigAuth(kubeconfig({ token: 'abc' }, { server: 'https://h:1', 'certificate-authority': 'ca.crt', 'tls-server-name': 'kubernetes' }));
  assert.equal(a.server, 'https://h:1');
  assert.equal(a.ca?.toString(), 'CA-PEM');
  assert.equal(a.servername, 'kubernetes');
  assert.deepEqual(await a.headers(), { authorization: 'Bearer abc' });
  const b = await kubeconfigAuth(kubeconfig({ 'client-certificate-data': Buffer.from('CERT').toString('base64'), 'client-key-data': Buffer.from('KEY').toString('base64') }, { server: 'https://h:2', 'insecure-skip-tls-verify': true }));
  assert.equal(b.cert?.toString(), 'CERT');
  assert.equal(b.key?.toString(), 'KEY');
  assert.equal(b.rejectUnauthorized, false);
  assert.deepEqual(await b.headers(), {});
  const c = await kubeconfigAuth(kubeconfig({ tokenFile: 'token' }));
  assert.deepEqual(await c.headers(), { authorization: 'Bearer file-token' });
  const d = await kubeconfigAuth(kubeconfig({ username: 'u', password: 'p' }));
  assert.deepEqual(await d.headers(), { authorization: `Basic ${Buffer.from('u:p').toString('base64')}` });
});

it('names the missing context', async () => {
  await assert.rejects(kubeconfigAuth(kubeconfig({}, undefined, 'nope')), /current-context "nope" not found/);
});
