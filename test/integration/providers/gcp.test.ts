// The gcpsm provider's workload identity (GKE) and workload identity federation against the real
// kube-apiserver (TokenRequest) and the gcpsm emulator (reads). The emulator has no securetoken,
// STS or IAM Credentials API, so those are a small in-test HTTP server that follows Google's
// documented protocols:
//   - securetoken.googleapis.com/v1/identitybindingtoken (what GKE's metadata server and ESO call),
//   - sts.googleapis.com/v1/token (RFC 8693 token exchange),
//   - iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/EMAIL:generateAccessToken.
// It checks the Kubernetes token's signature with the apiserver's service-account public key and
// its audience, and answers generateAccessToken for the emulator's service account with a token
// the emulator really issued (a JWT-bearer grant signed with that account's key), as IAM does.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, createVerify } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { KubeClient } from '../../../src/kube/client.ts';
import { core } from '../../../src/kube/types.ts';
import { ProviderError } from '../../../src/providers/provider.ts';
import type { ProviderClient } from '../../../src/providers/provider.ts';
import { getProvider } from '../../../src/providers/registry.ts';
import { callLimits } from '../../../src/providers/common/http.ts';
import { endpointsFromEnv, parseServiceAccountKey, serviceAccountKeySource } from '../../../src/providers/gcp/credentials.ts';
import { ensurePeers, GCPSM_SA_EMAIL, gcpsmKeyFile, stateDir, type PeersEnv } from '../../peers/index.ts';
import { gcpsmAdmin, type GcpsmAdmin } from '../../peers/gcpsm-admin.ts';
import { callRecorder, kubeProviderContext, putSecret, putServiceAccount } from './context.ts';

const run = `t${Date.now().toString(36)}`;
let env: PeersEnv;
let kube: KubeClient;
let ns: string;
let gsm: GcpsmAdmin;
let server: http.Server;
let base: string;
const seen: Array<{ path: string; body: Record<string, unknown> }> = [];
const clients: ProviderClient[] = [];

/** Verifies a Kubernetes service-account JWT (RS256) with the apiserver's key; returns its claims. */
function kubeClaims(jwt: string): { aud?: string[] | string; sub?: string } | undefined {
  const [h, c, sig] = jwt.split('.');
  if (!h || !c || !sig) return undefined;
  const key = createPublicKey(readFileSync(path.join(stateDir, 'pki', 'sa.pub')));
  if (!createVerify('RSA-SHA256').update(`${h}.${c}`).verify(key, Buffer.from(sig, 'base64url'))) return undefined;
  return JSON.parse(Buffer.from(c, 'base64url').toString()) as { aud?: string[]; sub?: string };
}

const audiencesOf = (claims: { aud?: string[] | string }) => (Array.isArray(claims.aud) ? claims.aud : claims.aud ? [claims.aud] : []);

function send(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** The Google token services, as documented, on 127.0.0.1. */
function handle(req: http.IncomingMessage, res: http.ServerResponse, text: string): void {
  const url = req.url ?? '';
  const body = (req.headers['content-type'] ?? '').includes('json') ? (JSON.parse(text || '{}') as Record<string, unknown>) : Object.fromEntries(new URLSearchParams(text));
  seen.push({ path: url, body });
  if (url === '/v1/identitybindingtoken' || url === '/v1/token') {
    if (body.grant_type !== 'urn:ietf:params:oauth:grant-type:token-exchange' || body.subject_token_type !== 'urn:ietf:params:oauth:token-type:jwt') {
      return send(res, 400, { error: 'invalid_request', error_description: 'unsupported grant or token type' });
    }
    const claims = kubeClaims(String(body.subject_token ?? ''));
    if (!claims) return send(res, 400, { error: 'invalid_grant', error_description: 'The subject token signature could not be verified.' });
    const audience = String(body.audience ?? '');
    // identitynamespace:POOL:PROVIDER for securetoken: the token's audience must be the pool.
    const wanted = url === '/v1/identitybindingtoken' ? audience.split(':')[1] ?? '' : audience;
    if (!audiencesOf(claims).includes(wanted)) return send(res, 400, { error: 'invalid_grant', error_description: `The audience in the subject token does not match ${wanted}.` });
    const token = `${url === '/v1/token' ? 'sts' : 'ibt'}.${claims.sub}`;
    return send(res, 200, { access_token: token, issued_token_type: 'urn:ietf:params:oauth:token-type:access_token', token_type: 'Bearer', expires_in: 3600 });
  }
  const m = /^\/v1\/projects\/-\/serviceAccounts\/([^/:]+):generateAccessToken$/.exec(url);
  if (m) {
    const bearer = req.headers.authorization ?? '';
    if (!/^Bearer (ibt|sts)\.system:serviceaccount:/.test(bearer)) return send(res, 401, { error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' } });
    if (decodeURIComponent(m[1]!) !== GCPSM_SA_EMAIL) return send(res, 403, { error: { code: 403, message: "Permission 'iam.serviceAccounts.getAccessToken' denied", status: 'PERMISSION_DENIED' } });
    // IAM issues the service account's own token: here the emulator issues it for the account's key.
    const key = parseServiceAccountKey(readFileSync(gcpsmKeyFile(), 'utf8'), 'key');
    serviceAccountKeySource(key, endpointsFromEnv(env), { limits: callLimits(undefined) }).token().then(
      (accessToken) => send(res, 200, { accessToken, expireTime: new Date(Date.now() + 3600_000).toISOString() }),
      (err: unknown) => send(res, 500, { error: { message: String(err) } }),
    );
    return;
  }
  send(res, 404, { error: 'not found' });
}

before(async () => {
  env = { ...(await ensurePeers(['etcd', 'kube-apiserver', 'kube-controller-manager', 'gcpsm'])) };
  kube = await KubeClient.create({ kubeconfig: env.KUBECONFIG, fieldManager: 'tessera-test-gcp' });
  ns = `gcp-prov-${run}`;
  await kube.create(core.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  gsm = gcpsmAdmin();
  await gsm.put(`${run}-wi`, 'via-workload-identity');
  server = http.createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (text += c));
    req.on('end', () => handle(req, res, text));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  for (const c of clients) await c.close();
  await gsm?.close();
  server?.close();
  await kube?.delete(core.namespaces, undefined, ns).catch(() => undefined);
  kube?.close();
});

function providerEnv(): Record<string, string | undefined> {
  return { ...env, TESSERA_GCP_SECURETOKEN_URL: `${base}/v1/identitybindingtoken`, TESSERA_GCP_STS_URL: `${base}/v1/token`, TESSERA_GCP_IAMCREDENTIALS_URL: base };
}

async function client(config: Record<string, unknown>, rec = callRecorder()): Promise<ProviderClient> {
  const p = await getProvider('gcpsm');
  const c = await p.newClient(config, { ...kubeProviderContext(kube, ns, rec), env: providerEnv() });
  clients.push(c);
  return c;
}

const text = (v: { value: Uint8Array }) => Buffer.from(v.value).toString('utf8');

describe('workload identity (GKE)', () => {
  test('TokenRequest → identity-binding token → generateAccessToken for the annotated Google service account', async () => {
    await putServiceAccount(kube, ns, 'reader');
    await kube.patch(core.serviceAccounts, ns, 'reader', 'merge', { metadata: { annotations: { 'iam.gke.io/gcp-service-account': GCPSM_SA_EMAIL } } });
    const rec = callRecorder();
    const c = await client({ projectID: gsm.project, auth: { workloadIdentity: { serviceAccountRef: { name: 'reader' }, clusterLocation: 'europe-west1', clusterName: 'prod' } } }, rec);
    seen.length = 0;
    assert.equal(text(await c.getValue({ key: `${run}-wi` })), 'via-workload-identity');
    const exchange = seen.find((s) => s.path === '/v1/identitybindingtoken');
    assert.equal(exchange?.body.audience, `identitynamespace:${gsm.project}.svc.id.goog:https://container.googleapis.com/v1/projects/${gsm.project}/locations/europe-west1/clusters/prod`);
    assert.equal(exchange?.body.scope, 'https://www.googleapis.com/auth/cloud-platform');
    assert.ok(seen.some((s) => s.path.endsWith(`${encodeURIComponent(GCPSM_SA_EMAIL)}:generateAccessToken`)));
    assert.deepEqual(rec.calls, ['GenerateServiceAccountToken', 'GenerateIDBindToken', 'GenerateAccessToken', 'AccessSecretVersion']);
    // The token is cached: a second read exchanges nothing.
    await c.getValue({ key: `${run}-wi` });
    assert.equal(rec.count('GenerateIDBindToken'), 1);
  });

  test('a Google service account it may not impersonate: AccessDenied, naming the call', async () => {
    await putServiceAccount(kube, ns, 'stranger');
    await kube.patch(core.serviceAccounts, ns, 'stranger', 'merge', { metadata: { annotations: { 'iam.gke.io/gcp-service-account': `other@${gsm.project}.iam.gserviceaccount.com` } } });
    const c = await client({ projectID: gsm.project, auth: { workloadIdentity: { serviceAccountRef: { name: 'stranger' }, clusterLocation: 'l', clusterName: 'n' } } });
    await assert.rejects(c.getValue({ key: `${run}-wi` }), (e: unknown) => e instanceof ProviderError && e.kind === 'AccessDenied' && /GenerateAccessToken .*HTTP 403/.test(e.message));
  });
});

describe('workload identity federation', () => {
  test('TokenRequest with the pool audience → STS → impersonation of gcpServiceAccountEmail', async () => {
    await putServiceAccount(kube, ns, 'federated');
    const audience = `//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/pool-${run}/providers/k8s`;
    const rec = callRecorder();
    const c = await client({ projectID: gsm.project, auth: { workloadIdentityFederation: { serviceAccountRef: { name: 'federated' }, audience, gcpServiceAccountEmail: GCPSM_SA_EMAIL } } }, rec);
    seen.length = 0;
    assert.equal(text(await c.getValue({ key: `${run}-wi` })), 'via-workload-identity');
    const sts = seen.find((s) => s.path === '/v1/token');
    assert.equal(sts?.body.audience, audience);
    assert.equal(sts?.body.requested_token_type, 'urn:ietf:params:oauth:token-type:access_token');
    assert.deepEqual(rec.calls, ['GenerateServiceAccountToken', 'STSTokenExchange', 'GenerateAccessToken', 'AccessSecretVersion']);
  });

  test('a Kubernetes token for another audience is refused by STS: BadCredentials', async () => {
    await putServiceAccount(kube, ns, 'wrong-aud');
    const c = await client({ projectID: gsm.project, auth: { workloadIdentityFederation: { serviceAccountRef: { name: 'wrong-aud', audiences: ['something-else'] }, audience: '//iam.googleapis.com/pool' } } });
    await assert.rejects(c.getValue({ key: `${run}-wi` }), (e: unknown) => e instanceof ProviderError && e.kind === 'BadCredentials' && /STSTokenExchange .*HTTP 400 \(invalid_grant/.test(e.message));
  });
});

test('abort: a read cancelled by its caller rejects with the caller\'s reason, at once', async () => {
  await putSecret(kube, ns, 'gcp-key', { 'key.json': readFileSync(gcpsmKeyFile(), 'utf8') });
  const c = await client({ projectID: gsm.project, auth: { secretRef: { secretAccessKeySecretRef: { name: 'gcp-key', key: 'key.json' } } } });
  const ac = new AbortController();
  const p = c.getValue({ key: `${run}-wi` }, ac.signal);
  ac.abort(new DOMException('reconcile deadline', 'TimeoutError'));
  await assert.rejects(p, { name: 'TimeoutError' });
});

test('--provider-timeout: a Secret Manager endpoint that accepts and never answers fails the read as Unreachable in time', async () => {
  const sockets = new Set<net.Socket>();
  // Accepts connections and says nothing: no HTTP/2 preface, no answer.
  const silent = net.createServer((sock) => {
    sockets.add(sock);
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  try {
    await putSecret(kube, ns, 'gcp-key', { 'key.json': readFileSync(gcpsmKeyFile(), 'utf8') });
    const p = await getProvider('gcpsm');
    const endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const c = await p.newClient({ projectID: gsm.project, auth: { secretRef: { secretAccessKeySecretRef: { name: 'gcp-key', key: 'key.json' } } } }, {
      ...kubeProviderContext(kube, ns), env: { ...providerEnv(), TESSERA_GCPSM_ENDPOINT: endpoint }, callDeadlineMs: 700,
    });
    const t0 = Date.now();
    await assert.rejects(c.getValue({ key: `${run}-wi` }), (e: unknown) => e instanceof ProviderError && e.kind === 'Unreachable' && /AccessSecretVersion .*deadline of 700ms exceeded/.test(e.message));
    assert.ok(Date.now() - t0 < 5000, `failed after ${Date.now() - t0} ms`);
    await c.close();
  } finally {
    for (const sock of sockets) sock.destroy();
    silent.close();
  }
});
