// The tenant kubeconfig parser: inline data only. Each refused field is named in the error, the
// value never is, and nothing is read from the filesystem.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { KubeconfigRefused, parseTenantKubeconfig } from '../../../../src/providers/kubernetes/kubeconfig.ts';
import { newKubernetesClient } from '../../../../src/providers/kubernetes/index.ts';
import { ProviderError } from '../../../../src/providers/provider.ts';
import type { ProviderContext } from '../../../../src/providers/provider.ts';

const PEM = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64');
const MARKER = 'VALUE-MARKER-7f3a';

function kubeconfig(o: { user?: Record<string, unknown>; cluster?: Record<string, unknown>; context?: Record<string, unknown>; extraUsers?: Array<Record<string, unknown>> } = {}): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'c',
    clusters: [{ name: 'k', cluster: { server: 'https://example.invalid:6443', 'certificate-authority-data': PEM, ...o.cluster } }],
    users: [{ name: 'u', user: o.user ?? { token: MARKER } }, ...(o.extraUsers ?? [])],
    contexts: [{ name: 'c', context: { cluster: 'k', user: 'u', ...o.context } }],
  });
}

function refusal(text: string): KubeconfigRefused {
  try {
    parseTenantKubeconfig(text);
  } catch (err) {
    assert.ok(err instanceof KubeconfigRefused, `expected KubeconfigRefused, got ${String(err)}`);
    assert.ok(!err.message.includes(MARKER), 'a refusal must not quote a value');
    assert.ok(!err.message.includes('/var/run/secrets'), 'a refusal must not quote a path');
    return err;
  }
  assert.fail('the kubeconfig was accepted');
}

test('inline token, CA and server are accepted', () => {
  const c = parseTenantKubeconfig(kubeconfig());
  assert.equal(c.server, 'https://example.invalid:6443');
  assert.equal(c.token, MARKER);
  assert.match(c.ca ?? '', /BEGIN CERTIFICATE/);
});

test('inline client certificate and key are accepted', () => {
  const c = parseTenantKubeconfig(kubeconfig({ user: { 'client-certificate-data': PEM, 'client-key-data': PEM } }));
  assert.match(c.cert ?? '', /BEGIN/);
  assert.match(c.key ?? '', /BEGIN/);
  assert.equal(c.token, undefined);
});

test('inline username and password are accepted as basic credentials', () => {
  const c = parseTenantKubeconfig(kubeconfig({ user: { username: 'alice', password: MARKER } }));
  assert.deepEqual(c.basic, { username: 'alice', password: MARKER });
});

const tokenPath = '/var/run/secrets/kubernetes.io/serviceaccount/token';
const fileCases: Array<[string, Record<string, unknown>, string]> = [
  ['token-file', { user: { 'token-file': tokenPath } }, 'users[0].user.token-file'],
  ['tokenFile (client-go spelling)', { user: { tokenFile: tokenPath } }, 'users[0].user.tokenFile'],
  ['client-certificate', { user: { 'client-certificate': '/etc/kubernetes/pki/admin.crt', 'client-key-data': PEM } }, 'users[0].user.client-certificate'],
  ['client-key', { user: { 'client-certificate-data': PEM, 'client-key': '/etc/kubernetes/pki/admin.key' } }, 'users[0].user.client-key'],
  ['certificate-authority', { cluster: { 'certificate-authority': '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt' } }, 'clusters[0].cluster.certificate-authority'],
];
for (const [name, o, field] of fileCases) {
  test(`${name} is refused as a file of the controller`, () => {
    const err = refusal(kubeconfig(o));
    assert.equal(err.field, field);
    assert.match(err.message, /names a file on the controller's filesystem/);
  });
}

const commandCases: Array<[string, Record<string, unknown>, string]> = [
  ['exec', { user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'cat', args: [tokenPath] } } }, 'users[0].user.exec'],
  ['auth-provider', { user: { 'auth-provider': { name: 'gcp', config: { 'cmd-path': '/bin/sh' } } } }, 'users[0].user.auth-provider'],
];
for (const [name, o, field] of commandCases) {
  test(`${name} is refused as a command of the controller`, () => {
    const err = refusal(kubeconfig(o));
    assert.equal(err.field, field);
    assert.match(err.message, /runs a command or plugin/);
  });
}

const unsupportedCases: Array<[string, Record<string, unknown>, string, RegExp]> = [
  ['proxy-url', { cluster: { 'proxy-url': 'http://proxy.example:3128' } }, 'clusters[0].cluster.proxy-url', /proxies are not supported/],
  ['tls-server-name', { cluster: { 'tls-server-name': 'kubernetes' } }, 'clusters[0].cluster.tls-server-name', /not supported/],
  ['as (impersonation)', { user: { token: MARKER, as: 'system:admin' } }, 'users[0].user.as', /impersonation/],
  ['as-groups (impersonation)', { user: { token: MARKER, 'as-groups': ['system:masters'] } }, 'users[0].user.as-groups', /impersonation/],
  ['an unknown user field', { user: { token: MARKER, 'password-file': '/etc/shadow' } }, 'users[0].user.password-file', /unknown field/],
  ['an unknown cluster field', { cluster: { 'ca-file': '/etc/ssl/ca.pem' } }, 'clusters[0].cluster.ca-file', /unknown field/],
  ['insecure-skip-tls-verify: true', { cluster: { 'insecure-skip-tls-verify': true } }, 'clusters[0].cluster.insecure-skip-tls-verify', /not supported/],
];
for (const [name, o, field, why] of unsupportedCases) {
  test(`${name} is refused, naming the field`, () => {
    const err = refusal(kubeconfig(o));
    assert.equal(err.field, field);
    assert.match(err.message, why);
  });
}

test('a file field in a user that is not the current one is refused too', () => {
  const err = refusal(kubeconfig({ extraUsers: [{ name: 'other', user: { 'token-file': tokenPath } }] }));
  assert.equal(err.field, 'users[1].user.token-file');
});

test('not YAML, no current context, and a context naming nothing are refused without quoting the text', () => {
  assert.match(refusal(`{{{ ${MARKER}`).message, /not a kubeconfig/);
  assert.equal(refusal(stringify({ clusters: [], users: [], contexts: [] })).field, 'current-context');
  assert.equal(refusal(kubeconfig({ context: { cluster: 'nope' } })).field, 'contexts[0].context.cluster');
  assert.equal(refusal(kubeconfig({ cluster: { server: 'file:///etc/passwd' } })).field, 'clusters[0].cluster.server');
});

test('an alias bomb is refused, not expanded', () => {
  const lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 12; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill('*' + String.fromCharCode(96 + i)).join(',')}]`);
  const started = performance.now();
  assert.match(refusal(lines.join('\n')).message, /not a kubeconfig/);
  assert.ok(performance.now() - started < 2000);
});

test('the provider reports a refused kubeconfig as InvalidRequest naming spec.provider.kubernetes.authRef and the field', async () => {
  const ctx: ProviderContext = {
    namespace: 'tenant',
    readSecretKey: async () => kubeconfig({ user: { 'token-file': tokenPath } }),
    createServiceAccountToken: async () => assert.fail('no token may be issued'),
  };
  await assert.rejects(newKubernetesClient({ authRef: { name: 'kc', key: 'config' } }, ctx), (err: unknown) => {
    assert.ok(err instanceof ProviderError);
    assert.equal(err.kind, 'InvalidRequest');
    assert.match(err.message, /^spec\.provider\.kubernetes\.authRef: kubeconfig users\[0\]\.user\.token-file: names a file/);
    return true;
  });
});

test('a remote key of "." or ".." is not a Secret name (URL parsing would reach the namespace)', async () => {
  const { KubernetesSecretsClient } = await import('../../../../src/providers/kubernetes/index.ts');
  const { KubeTransport } = await import('../../../../src/providers/kubernetes/http.ts');
  const t = new KubeTransport({ server: 'http://127.0.0.1:1' });
  const c = new KubernetesSecretsClient(t, 'ns');
  for (const key of ['.', '..']) await assert.rejects(c.getValue({ key }), /is not a Secret name/);
  await c.close();
});

test('server URLs with a query or fragment are refused (they would swallow the request path)', async () => {
  const { validateKubernetesConfig } = await import('../../../../src/providers/kubernetes/config.ts');
  const { validateVaultConfig } = await import('../../../../src/providers/vault/config.ts');
  const token = { token: { bearerToken: { name: 's', key: 'k' } } };
  assert.ok(validateKubernetesConfig({ server: { url: 'http://169.254.169.254/latest/meta-data#' }, auth: token }).includes('spec.provider.kubernetes.server.url: must not contain a query or fragment'));
  assert.deepEqual(validateKubernetesConfig({ server: { url: 'https://k:6443' }, auth: token }), []);
  assert.ok(validateVaultConfig({ server: 'http://10.0.0.1/admin?x=', auth: { tokenSecretRef: { name: 's', key: 'k' } } }).includes('spec.provider.vault.server: must not contain a query or fragment'));
  assert.equal(refusal(kubeconfig({ cluster: { server: 'https://k/x#' } })).field, 'clusters[0].cluster.server');
});
