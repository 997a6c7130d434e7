// The controller's own API server connection and proxies, as client-go decides: a cluster's
// proxy-url wins; without one, HTTPS_PROXY unless NO_PROXY exempts the server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadClusterAuth } from '../../../src/kube/config.ts';

function kubeconfig(server: string, proxyUrl?: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-proxy-kubeconfig-'));
  const file = path.join(dir, 'kubeconfig');
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: ${server}
${proxyUrl !== undefined ? `    proxy-url: ${JSON.stringify(proxyUrl)}\n` : ''}users:
- name: u
  user:
    token: t
contexts:
- name: x
  context: { cluster: c, user: u }
current-context: x
`,
  );
  return file;
}

test("a cluster's proxy-url is used, whatever the environment says", async () => {
  const auth = await loadClusterAuth(kubeconfig('https://api.corp:6443', 'http://proxy.corp:3128'), { NO_PROXY: '*' });
  assert.equal(auth.proxy?.href, 'http://proxy.corp:3128/');
});

test('without proxy-url: HTTPS_PROXY, unless NO_PROXY names the server (CIDRs included)', async () => {
  const file = kubeconfig('https://172.30.0.1:443');
  assert.equal((await loadClusterAuth(file, { HTTPS_PROXY: 'http://proxy.corp:3128' })).proxy?.href, 'http://proxy.corp:3128/');
  assert.equal((await loadClusterAuth(file, { HTTPS_PROXY: 'http://proxy.corp:3128', NO_PROXY: '.cluster.local,172.30.0.0/16' })).proxy, undefined);
  assert.equal((await loadClusterAuth(file, {})).proxy, undefined);
});

test('an invalid proxy-url is an error naming the file and the field, not the value', async () => {
  const file = kubeconfig('https://api.corp:6443', 'http://user:s3cret@[bad');
  await assert.rejects(loadClusterAuth(file, {}), (e: Error) => e.message.includes(file) && e.message.includes('proxy-url') && !e.message.includes('s3cret'));
});
