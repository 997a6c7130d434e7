import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelSelector, marshalStringMap, secretDataJson, secretMetadataJson, validateKubernetesConfig } from '../../../../src/providers/kubernetes/index.ts';
import { ProviderError } from '../../../../src/providers/provider.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

test('Secret data as ESO returns it: decoded strings, sorted keys, no HTML escaping', () => {
  assert.equal(secretDataJson({ data: { b: b64('2'), a: b64('x<y&z'), '10': b64('n') } }), '{"10":"n","a":"x<y&z","b":"2"}');
  assert.equal(secretDataJson({}), '{}');
  assert.equal(marshalStringMap({ k: 'line\u2028sep' }), '{"k":"line\\u2028sep"}');
});

test('metadata: annotations and labels, null when absent', () => {
  assert.equal(secretMetadataJson({ metadata: { labels: { team: 'a' } } }), '{"annotations":null,"labels":{"team":"a"}}');
});

test('find.tags become an equality label selector; invalid terms are refused', () => {
  assert.equal(labelSelector({ team: 'payments', 'app.kubernetes.io/name': 'x' }), 'app.kubernetes.io/name=x,team=payments');
  assert.throws(() => labelSelector({ team: 'a,b' }), (e: unknown) => e instanceof ProviderError && e.kind === 'InvalidRequest');
});

test('config checks', () => {
  assert.deepEqual(validateKubernetesConfig({ auth: { serviceAccount: { name: 'sa' } } }), []);
  assert.deepEqual(validateKubernetesConfig({ authRef: { name: 'kc', key: 'config' } }), []);
  assert.deepEqual(validateKubernetesConfig({ server: { url: 'https://k8s.example' }, auth: { cert: { clientCert: { name: 'c', key: 'tls.crt' }, clientKey: { name: 'c', key: 'tls.key' } } } }), []);
  assert.deepEqual(validateKubernetesConfig({ auth: { serviceAccount: { name: 'sa' }, token: { bearerToken: { name: 't', key: 'k' } } } }), ['spec.provider.kubernetes.auth: Too many: must have at most 1 properties'], 'the schema\'s maxProperties (the apiserver\'s words)');
  assert.deepEqual(validateKubernetesConfig({ authRef: { name: 'kc', key: 'config' }, auth: { serviceAccount: { name: 'sa' } } }), ['spec.provider.kubernetes: auth and authRef are mutually exclusive']);
  assert.deepEqual(validateKubernetesConfig({ server: { url: 'nope' }, auth: { serviceAccount: { name: 'sa' } } }), ['spec.provider.kubernetes.server.url: "nope" is not a URL']);
});
