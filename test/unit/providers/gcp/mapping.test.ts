// The gcpsm provider's pure parts: resource names, list filters, the metadata JSON, gRPC error
// mapping, config checks, the endpoint choice and the service-account JWT.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createVerify, generateKeyPairSync } from 'node:crypto';
import { listFilter, metadataJson, parentName, remoteKeyOf, secretName, versionName } from '../../../../src/providers/gcp/names.ts';
import { toProviderError } from '../../../../src/providers/gcp/errors.ts';
import { gcpControllerIdentity, secretManagerEndpoint, validateGcpConfig } from '../../../../src/providers/gcp/index.ts';
import { CachedTokenSource, jwtAssertion, parseServiceAccountKey } from '../../../../src/providers/gcp/credentials.ts';
import { ProviderError, isNotFound } from '../../../../src/providers/provider.ts';

const global = { project: 'my-project' };
const regional = { project: 'my-project', location: 'europe-west1' };

test('resource names: global and regional, "latest" by default, numbers and aliases as written', () => {
  assert.equal(parentName(global), 'projects/my-project');
  assert.equal(parentName(regional), 'projects/my-project/locations/europe-west1');
  assert.equal(secretName(regional, 'db'), 'projects/my-project/locations/europe-west1/secrets/db');
  assert.equal(versionName(global, 'db', undefined), 'projects/my-project/secrets/db/versions/latest');
  assert.equal(versionName(global, 'db', ''), 'projects/my-project/secrets/db/versions/latest');
  assert.equal(versionName(global, 'db', '7'), 'projects/my-project/secrets/db/versions/7');
  assert.equal(versionName(global, 'db', 'prod-alias'), 'projects/my-project/secrets/db/versions/prod-alias');
});

test('names refuse what Secret Manager could not hold, naming the field', () => {
  assert.throws(() => secretName(global, 'a/b'), (e: unknown) => e instanceof ProviderError && e.kind === 'InvalidRequest' && /remoteRef\.key/.test(e.message));
  assert.throws(() => secretName(global, 'x'.repeat(256)), /remoteRef\.key/);
  assert.throws(() => versionName(global, 'db', '../1'), /remoteRef\.version/);
  assert.throws(() => versionName(global, 'db', '0'), /remoteRef\.version/);
});

test('listed names lose their project number and location prefix', () => {
  assert.equal(remoteKeyOf('projects/123456/secrets/db'), 'db');
  assert.equal(remoteKeyOf('projects/123456/locations/europe-west1/secrets/db-2'), 'db-2');
});

test('find filters: labels.K=V per tag and name:PATH, and no filter injection', () => {
  assert.equal(listFilter({ team: 'payments', env: 'prod' }, undefined), 'labels.team=payments labels.env=prod');
  assert.equal(listFilter(undefined, 'app-'), 'name:app-');
  assert.equal(listFilter({}, undefined), '');
  assert.throws(() => listFilter({ team: 'a OR labels.x:*' }, undefined), /find\.tags\["team"\]/);
  assert.throws(() => listFilter({ 'Team': 'a' }, undefined), /find\.tags/);
  assert.throws(() => listFilter(undefined, 'a b'), /find\.path/);
});

test('metadata JSON is Go json.Marshal of annotations and labels: sorted, HTML-escaped, null when empty', () => {
  assert.equal(metadataJson({ b: '2', a: '1' }, { note: '<&>' }), '{"annotations":{"note":"\\u003c\\u0026\\u003e"},"labels":{"a":"1","b":"2"}}');
  assert.equal(metadataJson({}, null), '{"annotations":null,"labels":null}');
});

test('gRPC errors: NOT_FOUND only is NotFound; the others by kind, naming the call', () => {
  const e = (code: number, details: string) => Object.assign(new Error(details), { code, details });
  const nf = toProviderError(e(5, 'Secret [projects/1/secrets/x] not found or has no versions.'), { operation: 'AccessSecretVersion', target: 'x' }, 16 << 20);
  assert.ok(isNotFound(nf));
  assert.match(nf.message, /^GCP SecretManager AccessSecretVersion "x": NOT_FOUND: Secret/);
  const kinds = [[7, 'AccessDenied'], [16, 'BadCredentials'], [8, 'Throttled'], [14, 'Unreachable'], [3, 'InvalidRequest'], [9, 'InvalidRequest'], [13, 'Unknown']] as const;
  for (const [code, kind] of kinds) assert.equal(toProviderError(e(code, 'x'), { operation: 'GetSecret' }, 1).kind, kind, `code ${code}`);
  const big = toProviderError(e(8, 'Received message larger than max (20000000 vs 16777216)'), { operation: 'AccessSecretVersion' }, 16 << 20);
  assert.equal(big.kind, 'Unknown');
  assert.match(big.message, /response size cap of 16 MiB/);
  assert.ok(toProviderError(e(2, 'y'.repeat(5000)), { operation: 'GetSecret' }, 1).message.length < 300, 'server text is cut short');
});

test('config checks: schema, then what the schema cannot say', () => {
  assert.deepEqual(validateGcpConfig({ projectID: 'my-project', auth: { secretRef: { secretAccessKeySecretRef: { name: 's', key: 'k' } } } }), []);
  assert.match(validateGcpConfig({ projectID: 'My Project' }).join('\n'), /spec\.provider\.gcpsm\.projectID: "My Project" is not a Google Cloud project id/);
  assert.match(validateGcpConfig({ projectID: 'my-project', location: 'Europe/West' }).join('\n'), /spec\.provider\.gcpsm\.location/);
  assert.match(validateGcpConfig({ projectID: 'my-project', auth: { secretRef: { secretAccessKeySecretRef: { name: 's' } } } }).join('\n'), /secretAccessKeySecretRef: name and key are required/);
  assert.match(validateGcpConfig({ auth: { workloadIdentityFederation: { credConfig: { name: 'c', key: 'k' } } } }).join('\n'), /credConfig and awsSecurityCredentials are not supported yet/);
  assert.match(validateGcpConfig({ auth: { workloadIdentityFederation: { serviceAccountRef: { name: 'sa' } } } }).join('\n'), /audience: is required/);
  assert.match(validateGcpConfig({ projectID: 'my-project', secretVersionSelectionPolicy: 'Sometimes' }).join('\n'), /secretVersionSelectionPolicy/);
});

test('only a store without auth acts as the controller', () => {
  assert.ok(gcpControllerIdentity({ projectID: 'p' }));
  assert.equal(gcpControllerIdentity({ projectID: 'p', auth: { secretRef: { secretAccessKeySecretRef: { name: 's', key: 'k' } } } }), undefined);
  assert.equal(gcpControllerIdentity({ auth: { workloadIdentity: { serviceAccountRef: { name: 'sa' } } } }), undefined);
});

test('endpoint: Google global or regional, or the operator override (http:// is plaintext)', () => {
  assert.deepEqual(secretManagerEndpoint({}, undefined), { host: 'secretmanager.googleapis.com', port: 443, plaintext: false });
  assert.deepEqual(secretManagerEndpoint({}, 'us-east1'), { host: 'secretmanager.us-east1.rep.googleapis.com', port: 443, plaintext: false });
  assert.deepEqual(secretManagerEndpoint({ TESSERA_GCPSM_ENDPOINT: 'http://127.0.0.1:28085' }, 'us-east1'), { host: '127.0.0.1', port: 28085, plaintext: true });
  assert.deepEqual(secretManagerEndpoint({ TESSERA_GCPSM_ENDPOINT: 'private.example:8443' }, undefined), { host: 'private.example', port: 8443, plaintext: false });
});

test('the JWT assertion carries Google\'s claims and verifies with the key\'s public half', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = parseServiceAccountKey(JSON.stringify({ type: 'service_account', client_email: 'sa@p.iam.gserviceaccount.com', private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }), private_key_id: 'k1' }), 'f');
  const jwt = jwtAssertion(key, 'https://oauth2.googleapis.com/token', 1_700_000_000_000);
  const [h, c, sig] = jwt.split('.');
  assert.deepEqual(JSON.parse(Buffer.from(h!, 'base64url').toString()), { alg: 'RS256', typ: 'JWT', kid: 'k1' });
  assert.deepEqual(JSON.parse(Buffer.from(c!, 'base64url').toString()), { iss: 'sa@p.iam.gserviceaccount.com', scope: 'https://www.googleapis.com/auth/cloud-platform', aud: 'https://oauth2.googleapis.com/token', iat: 1_700_000_000, exp: 1_700_003_600 });
  assert.ok(createVerify('RSA-SHA256').update(`${h}.${c}`).verify(publicKey, Buffer.from(sig!, 'base64url')));
});

test('key JSON problems name the field and never quote the content', () => {
  for (const [text, re] of [['{nope', /not valid JSON/], ['{"type":"authorized_user","client_secret":"s3cr3t"}', /"type" is "authorized_user"/], ['{"type":"service_account"}', /no client_email/]] as const) {
    assert.throws(() => parseServiceAccountKey(text, 'auth.secretRef'), (e: unknown) => e instanceof ProviderError && e.kind === 'BadCredentials' && re.test(e.message) && !e.message.includes('s3cr3t'));
  }
});

test('tokens are cached until a minute before expiry, shared by concurrent callers, and dropped when refused', async () => {
  let now = 0;
  let fetches = 0;
  const src = new CachedTokenSource(async () => ({ token: `t${++fetches}`, expiresAt: now + 3600_000 }), () => now);
  assert.deepEqual(await Promise.all([src.token(), src.token(), src.token()]), ['t1', 't1', 't1']);
  now = 3539_000;
  assert.equal(await src.token(), 't1');
  now = 3541_000;
  assert.equal(await src.token(), 't2');
  src.invalidate('t1'); // an old token: nothing to drop
  assert.equal(await src.token(), 't2');
  src.invalidate('t2');
  assert.equal(await src.token(), 't3');
  // A caller that gives up does not fail the others.
  const slow = new CachedTokenSource(() => new Promise((r) => setTimeout(() => r({ token: 's', expiresAt: Date.now() + 3600_000 }), 50)));
  const ac = new AbortController();
  const a = slow.token(ac.signal);
  const b = slow.token();
  ac.abort();
  await assert.rejects(a, { name: 'AbortError' });
  assert.equal(await b, 's');
});
