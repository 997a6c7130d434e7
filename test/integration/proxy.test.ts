// Egress through a proxy, as on an OpenShift cluster with a cluster-wide proxy: the provider
// clients (AWS SDK against moto, Vault against OpenBao) and the controller's own API client send
// their requests through HTTP_PROXY/HTTPS_PROXY or a kubeconfig's proxy-url, and NO_PROXY sends
// them directly. The proxy is a real one on loopback, built on node:http (forwarding for http://,
// CONNECT tunnels for https://), counting what passes through it. Loopback targets are never
// proxied (Go's rule), so the stores are addressed by names under .tessera.test, which only the
// proxy resolves (to 127.0.0.1): a request that bypasses it cannot even find its server.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parse, stringify } from 'yaml';
import { awsProvider } from '../../src/providers/aws/index.ts';
import type { AWSProvider } from '../../src/providers/aws/index.ts';
import { LoginCache, newVaultClient } from '../../src/providers/vault/index.ts';
import type { VaultProvider } from '../../src/providers/vault/index.ts';
import { ProviderError } from '../../src/providers/provider.ts';
import type { ProviderClient, ProviderContext } from '../../src/providers/provider.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { ensurePeers, ports, type PeersEnv } from '../peers/index.ts';

/** A forward and CONNECT proxy that resolves *.tessera.test (and the apiserver's name) to 127.0.0.1. */
class CountingProxy {
  /** Requests per target host, as the proxy saw them. */
  readonly seen = new Map<string, number>();
  private readonly server = http.createServer((req, res) => this.forward(req, res));
  port = 0;

  private resolve(host: string): string {
    if (host.endsWith('.tessera.test') || host === 'kubernetes.default.svc') return '127.0.0.1';
    return host;
  }

  private count(host: string): void {
    this.seen.set(host, (this.seen.get(host) ?? 0) + 1);
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end();
      return;
    }
    this.count(target.hostname);
    const upstream = http.request(
      { host: this.resolve(target.hostname), port: target.port || 80, path: target.pathname + target.search, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  }

  async start(): Promise<void> {
    this.server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
      const [host, port] = (req.url ?? '').split(':');
      this.count(host!);
      const upstream = net.connect(Number(port), this.resolve(host!), () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

const run = `tpx${Date.now().toString(36)}`;
const motoHost = 'moto.tessera.test';
const baoHost = 'bao.tessera.test';
let env: PeersEnv;
const proxy = new CountingProxy();
const clients: ProviderClient[] = [];

function context(extraEnv: Record<string, string>, secrets: Record<string, string> = {}): ProviderContext {
  return {
    namespace: 'default',
    // Only what the stores need: the peers' AWS credentials and region, and the proxy settings.
    env: { AWS_REGION: env.AWS_REGION, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', ...extraEnv },
    readSecretKey: async (ref) => {
      const v = secrets[`${ref.name}/${ref.key ?? ''}`];
      if (v === undefined) throw new ProviderError('BadCredentials', `no ${ref.name}/${ref.key}`);
      return v;
    },
    createServiceAccountToken: async () => {
      throw new ProviderError('BadCredentials', 'no tokens in this test');
    },
  };
}

async function awsStore(extraEnv: Record<string, string>): Promise<ProviderClient> {
  const config = { service: 'SecretsManager', region: env.AWS_REGION } as AWSProvider;
  const c = await awsProvider.newClient(config, context({ AWS_ENDPOINT_URL: `http://${motoHost}:${ports.moto}`, ...extraEnv }));
  clients.push(c);
  return c;
}

async function vaultStore(extraEnv: Record<string, string>): Promise<ProviderClient> {
  const config = { server: `http://${baoHost}:${ports.bao}`, path: 'secret', version: 'v2', auth: { tokenSecretRef: { name: 'vault', key: 'token' } } } as VaultProvider;
  const c = await newVaultClient(config, context(extraEnv, { 'vault/token': env.VAULT_TOKEN }), { logins: new LoginCache() });
  clients.push(c);
  return c;
}

const text = (v: { value: Uint8Array }) => Buffer.from(v.value).toString('utf8');

before(async () => {
  env = await ensurePeers(['etcd', 'kube-apiserver', 'moto', 'bao']);
  await proxy.start();
  // The values, written directly (loopback, no proxy involved).
  const sm = new SecretsManagerClient({ region: env.AWS_REGION, endpoint: env.AWS_ENDPOINT_URL, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  await sm.send(new CreateSecretCommand({ Name: `${run}/db`, SecretString: 'via-proxy-aws' }));
  sm.destroy();
  const res = await fetch(`${env.VAULT_ADDR}/v1/secret/data/${run}/db`, { method: 'POST', headers: { 'x-vault-token': env.VAULT_TOKEN, 'content-type': 'application/json' }, body: JSON.stringify({ data: { password: 'via-proxy-vault' } }) });
  assert.ok(res.ok, `bao write: ${res.status}`);
});

after(async () => {
  for (const c of clients) await c.close?.();
  await proxy.stop();
});

describe('provider clients behind HTTP_PROXY', () => {
  it('AWS Secrets Manager (moto) is read through the proxy', async () => {
    const before = proxy.seen.get(motoHost) ?? 0;
    const c = await awsStore({ HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url });
    assert.equal(text(await c.getValue({ key: `${run}/db` })), 'via-proxy-aws');
    assert.ok((proxy.seen.get(motoHost) ?? 0) > before, 'the proxy saw the request');
  });

  it('Vault (OpenBao) is read through the proxy', async () => {
    const before = proxy.seen.get(baoHost) ?? 0;
    const c = await vaultStore({ HTTP_PROXY: proxy.url });
    assert.deepEqual(JSON.parse(text(await c.getValue({ key: `${run}/db` }))), { password: 'via-proxy-vault' });
    assert.ok((proxy.seen.get(baoHost) ?? 0) > before, 'the proxy saw the request');
  });

  it('NO_PROXY sends them directly: the proxy sees nothing, and the name (known to the proxy only) does not resolve', async () => {
    const seenBefore = new Map(proxy.seen);
    const aws = await awsStore({ HTTP_PROXY: proxy.url, NO_PROXY: '.tessera.test' });
    await assert.rejects(aws.getValue({ key: `${run}/db` }), (e: Error) => /ENOTFOUND|getaddrinfo|Unreachable|not.*resolve/i.test(`${e.message} ${(e as { kind?: string }).kind ?? ''}`));
    const vault = await vaultStore({ HTTP_PROXY: proxy.url, NO_PROXY: `${baoHost}:${ports.bao}` });
    await assert.rejects(vault.getValue({ key: `${run}/db` }));
    assert.deepEqual(proxy.seen, seenBefore, 'no request passed the proxy');
  });
});

describe("the controller's API client", () => {
  it("tunnels HTTPS through a kubeconfig cluster's proxy-url (CONNECT)", async () => {
    // The admin kubeconfig, with the apiserver addressed by a name in its certificate that only
    // the proxy resolves, and a proxy-url.
    const kc = parse(readFileSync(env.KUBECONFIG, 'utf8'));
    kc.clusters[0].cluster.server = `https://kubernetes.default.svc:${ports.apiserver}`;
    kc.clusters[0].cluster['proxy-url'] = proxy.url;
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'tessera-proxy-url-')), 'kubeconfig');
    writeFileSync(file, stringify(kc));
    const before = proxy.seen.get('kubernetes.default.svc') ?? 0;
    const client = await KubeClient.create({ kubeconfig: file });
    try {
      const ns = await client.request<{ metadata: { name: string } }>('GET', '/api/v1/namespaces/default');
      assert.equal(ns.metadata.name, 'default');
    } finally {
      client.close();
    }
    assert.ok((proxy.seen.get('kubernetes.default.svc') ?? 0) > before, 'the proxy tunnelled the connection');
  });
});
