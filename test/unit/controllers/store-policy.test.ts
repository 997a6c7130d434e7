// Store policies decided without a cluster: the controller-identity rule for namespaced stores,
// an unsupported provider named by its key, and the AWS total deadline on a frozen endpoint.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { controllerIdentityRefusal } from '../../../src/controllers/stores.ts';
import { ControllerErrorCode, controllerErrors } from '../../../src/controllers/errors.ts';
import { getProvider, providerName, supportedProviders } from '../../../src/providers/registry.ts';
import { awsProvider } from '../../../src/providers/aws/index.ts';
import { vaultProvider } from '../../../src/providers/vault/index.ts';
import { kubernetesProvider } from '../../../src/providers/kubernetes/index.ts';
import { ProviderError } from '../../../src/providers/provider.ts';
import type { ProviderContext } from '../../../src/providers/provider.ts';
import type { Provider } from '../../../src/providers/provider.ts';

const aws = awsProvider as Provider;
const vault = vaultProvider as Provider;
const kube = kubernetesProvider as Provider;
const sel = { name: 's', key: 'k' };

test('deny refuses a SecretStore that would use the AWS default chain, naming spec.provider.aws.auth', () => {
  const msg = controllerIdentityRefusal('SecretStore', aws, { service: 'SecretsManager', region: 'eu-west-1' }, 'deny');
  assert.match(msg ?? '', /^spec\.provider\.aws\.auth: a SecretStore may not use the controller's own AWS credentials/);
  assert.match(msg ?? '', /--namespaced-store-controller-identity=deny/);
  // role with no auth is assumed with the controller's credentials: refused as well.
  assert.ok(controllerIdentityRefusal('SecretStore', aws, { service: 'SecretsManager', role: 'arn:aws:iam::1:role/x' }, 'deny'));
});

test('deny accepts AWS stores with their own credentials', () => {
  assert.equal(controllerIdentityRefusal('SecretStore', aws, { service: 'SecretsManager', auth: { secretRef: { accessKeyIDSecretRef: sel, secretAccessKeySecretRef: sel } } }, 'deny'), undefined);
  assert.equal(controllerIdentityRefusal('SecretStore', aws, { service: 'SecretsManager', auth: { jwt: { serviceAccountRef: { name: 'sa' } } } }, 'deny'), undefined);
});

test("deny refuses Vault kubernetes auth without serviceAccountRef or secretRef (the controller's own token)", () => {
  const msg = controllerIdentityRefusal('SecretStore', vault, { server: 'http://v', auth: { kubernetes: { role: 'r' } } }, 'deny');
  assert.match(msg ?? '', /^spec\.provider\.vault\.auth\.kubernetes: a SecretStore may not use the controller's own service-account token/);
  assert.equal(controllerIdentityRefusal('SecretStore', vault, { server: 'http://v', auth: { kubernetes: { role: 'r', serviceAccountRef: { name: 'sa' } } } }, 'deny'), undefined);
  assert.equal(controllerIdentityRefusal('SecretStore', vault, { server: 'http://v', auth: { kubernetes: { role: 'r', secretRef: sel } } }, 'deny'), undefined);
  assert.equal(controllerIdentityRefusal('SecretStore', vault, { server: 'http://v', auth: { tokenSecretRef: sel } }, 'deny'), undefined);
});

test('ClusterSecretStores and the allow policy are never refused', () => {
  const config = { service: 'SecretsManager' };
  assert.equal(controllerIdentityRefusal('ClusterSecretStore', aws, config, 'deny'), undefined);
  assert.equal(controllerIdentityRefusal('SecretStore', aws, config, 'allow'), undefined);
  assert.equal(controllerIdentityRefusal('SecretStore', aws, config, undefined), undefined);
});

test('the Kubernetes provider never falls back to the controller identity: no auth is a config error', () => {
  assert.equal(kube.controllerIdentity, undefined);
  assert.deepEqual(kube.validateConfig({ server: { url: 'https://k' } }), ['spec.provider.kubernetes: one of auth.cert, auth.token, auth.serviceAccount or authRef is required']);
});

test('an unsupported provider is InvalidStoreConfiguration naming its spec.provider key', async () => {
  const name = providerName({ provider: { doppler: { project: 'p' } } });
  const err = await getProvider(name).then(
    () => assert.fail('doppler loaded'),
    (e: unknown) => controllerErrors.fromProvider('SecretStore "doppler"', e),
  );
  assert.equal(err.code, ControllerErrorCode.InvalidStoreConfiguration);
  // The list grows with each provider this build adds; it is the registry's, sorted.
  assert.equal(err.message, `store SecretStore "doppler" is invalid: spec.provider.doppler: the "doppler" provider is not supported by this build of tessera (supported: ${supportedProviders().join(', ')})`);
  assert.ok(['aws', 'azurekv', 'gcpsm', 'kubernetes', 'vault'].every((p) => supportedProviders().includes(p)));
  assert.doesNotMatch(err.message, /unexpected/);
  // A key built to look like something else is quoted, and __proto__ is not a provider.
  await assert.rejects(getProvider('__proto__'), /spec\.provider\."__proto__": the "__proto__" provider is not supported/);
  const none = (() => {
    try {
      providerName({ provider: {} });
    } catch (e) {
      return controllerErrors.fromProvider('SecretStore "x"', e);
    }
  })();
  assert.equal(none?.code, ControllerErrorCode.InvalidStoreConfiguration);
  assert.match(none?.message ?? '', /spec\.provider: no provider configured/);
});

let frozen: http.Server;
let endpoint: string;
before(async () => {
  // An AWS endpoint that accepts the request and then says nothing, byte by byte, forever.
  frozen = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
    const t = setInterval(() => res.write(' '), 200);
    res.on('close', () => clearInterval(t));
  });
  await new Promise<void>((r) => frozen.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(frozen.address() as AddressInfo).port}`;
});
after(() => {
  frozen.closeAllConnections();
  frozen.close();
});

test('an AWS command against a frozen endpoint fails at the total deadline as Unreachable', async () => {
  const ctx: ProviderContext = {
    namespace: 'ns',
    env: { AWS_ENDPOINT_URL: endpoint, AWS_REGION: 'us-east-1' },
    readSecretKey: async (ref) => (ref.key === 'id' ? 'AKIAEXAMPLE' : 'secret'),
    createServiceAccountToken: async () => assert.fail('no token'),
    callDeadlineMs: 1500,
  };
  const client = await aws.newClient({ service: 'SecretsManager', auth: { secretRef: { accessKeyIDSecretRef: { name: 'c', key: 'id' }, secretAccessKeySecretRef: { name: 'c', key: 'secret' } } } }, ctx);
  const started = performance.now();
  try {
    await assert.rejects(client.getValue({ key: 'k' }), (e: unknown) => {
      assert.ok(e instanceof ProviderError);
      assert.equal(e.kind, 'Unreachable');
      assert.match(e.message, /deadline of 1\.5s exceeded/);
      return true;
    });
  } finally {
    await client.close();
  }
  const took = performance.now() - started;
  assert.ok(took >= 1400 && took < 4000, `took ${took} ms`);
});
