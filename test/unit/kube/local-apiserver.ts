// A KubeClient for a local HTTP server that plays the apiserver's part in a unit test: listens
// on 127.0.0.1, writes a kubeconfig naming it, and builds the client (without a rate limit unless
// the test gives one).
import type http from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { KubeClient } from '../../../src/kube/client.ts';

export async function clientFor(server: http.Server, limit: { qps: number; burst: number } = { qps: 0, burst: 1 }, pathPrefix = ''): Promise<KubeClient> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-local-apiserver-'));
  const kubeconfig = path.join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "http://127.0.0.1:${(server.address() as AddressInfo).port}${pathPrefix}" } }]
users: [{ name: u, user: { token: t } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`);
  return KubeClient.create({ kubeconfig, ...limit });
}
