// The proxy decision, case by case as Go's golang.org/x/net/http/httpproxy makes it (ESO's and
// kubectl's behaviour), including what Node's own proxyEnv matching does differently (CIDRs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agentProxyOptions, proxyConfigFromEnv, proxyForUrl } from '../../src/http-proxy.ts';

const P = 'http://proxy.corp:3128';
const via = (env: Record<string, string>, url: string) => proxyForUrl(proxyConfigFromEnv(env), new URL(url))?.href;

test('HTTPS_PROXY for https URLs, HTTP_PROXY for http URLs; lower-case names first', () => {
  assert.equal(via({ HTTPS_PROXY: P }, 'https://secretsmanager.eu-west-1.amazonaws.com'), `${P}/`);
  assert.equal(via({ HTTPS_PROXY: P }, 'http://vault.corp:8200'), undefined);
  assert.equal(via({ HTTP_PROXY: P }, 'http://vault.corp:8200'), `${P}/`);
  assert.equal(via({ https_proxy: 'http://lower:1', HTTPS_PROXY: 'http://upper:2' }, 'https://x.example'), 'http://lower:1/');
  assert.equal(via({ HTTPS_PROXY: 'proxy.corp:3128' }, 'https://x.example'), `${P}/`, 'no scheme means http://');
});

test('never for localhost or loopback addresses', () => {
  for (const url of ['https://localhost:6443', 'https://127.0.0.1:6443', 'https://127.9.9.9', 'https://[::1]:8200']) assert.equal(via({ HTTPS_PROXY: P }, url), undefined, url);
});

test('NO_PROXY: names with their subdomains, leading dot or *. for subdomains only, ports, IPs, CIDRs, *', () => {
  const env = (NO_PROXY: string) => ({ HTTPS_PROXY: P, NO_PROXY });
  assert.equal(via(env('vault.corp'), 'https://vault.corp'), undefined);
  assert.equal(via(env('corp'), 'https://vault.corp'), undefined);
  assert.equal(via(env('.corp'), 'https://corp'), `${P}/`, 'a leading dot matches subdomains only');
  assert.equal(via(env('*.corp'), 'https://vault.corp'), undefined);
  assert.equal(via(env('ault.corp'), 'https://vault.corp'), `${P}/`, 'a name is matched at label boundaries');
  assert.equal(via(env('vault.corp:8200'), 'https://vault.corp:8200'), undefined);
  assert.equal(via(env('vault.corp:8200'), 'https://vault.corp'), `${P}/`, 'the port must match');
  assert.equal(via(env('10.0.0.7'), 'https://10.0.0.7:6443'), undefined);
  assert.equal(via(env('172.30.0.0/16'), 'https://172.30.0.1:443'), undefined, "OpenShift's service network as a CIDR");
  assert.equal(via(env('172.30.0.0/16'), 'https://172.31.0.1:443'), `${P}/`);
  assert.equal(via(env('fd00::/8'), 'https://[fd00::1]:443'), undefined);
  assert.equal(via(env(' .svc , .cluster.local ,'), 'https://kubernetes.default.svc'), undefined, 'spaces and empty entries');
  assert.equal(via(env('VAULT.CORP'), 'https://vault.corp'), undefined, 'case-insensitive');
  assert.equal(via(env('*'), 'https://anything.example'), undefined);
  assert.equal(via(env('10.0.0.0/8'), 'https://ten.example'), `${P}/`, 'CIDRs match addresses, not names');
});

test('an invalid proxy setting is an error naming the variable, never its value', () => {
  assert.throws(() => proxyConfigFromEnv({ HTTPS_PROXY: 'http://user:s3cret@[bad' }), (e: Error) => e.message.startsWith('HTTPS_PROXY:') && !e.message.includes('s3cret'));
  assert.throws(() => proxyConfigFromEnv({ HTTP_PROXY: 'socks5://proxy:1080' }), /HTTP_PROXY: only http:\/\/ and https:\/\/ proxies/);
});

test('agent options carry the chosen proxy for both schemes, or nothing', () => {
  assert.deepEqual(agentProxyOptions({ HTTPS_PROXY: P }, 'https://vault.corp'), { proxyEnv: { HTTP_PROXY: `${P}/`, HTTPS_PROXY: `${P}/` } });
  assert.deepEqual(agentProxyOptions({ HTTPS_PROXY: P, NO_PROXY: '.corp' }, 'https://vault.corp'), {});
  assert.deepEqual(agentProxyOptions({}, 'https://vault.corp'), {});
});
