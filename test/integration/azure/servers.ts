// Azure Key Vault and Entra ID for the azurekv integration tests, as small HTTPS servers in the
// test process. Lowkey Vault, the Key Vault emulator the issue names, is not served by the Maven
// repository this project's machines reach (only its -client and -testcontainers artifacts are), so
// the Key Vault data plane is served here too. Both follow Microsoft's documented protocols:
//   - Key Vault REST (api-version 7.x): GET /secrets/{name}[/{version}], GET /secrets (paged,
//     nextLink), GET /keys/{name}[/{version}], GET /certificates/{name}[/{version}]; errors as
//     {"error":{"code":"SecretNotFound",...}}; bearer-token challenge (401 + WWW-Authenticate with
//     authorization="<authority>/<tenant>" and resource="https://vault.azure.net").
//   - Entra ID v2.0: /{tenant}/v2.0/.well-known/openid-configuration and the token endpoint,
//     grant_type=client_credentials with client_secret or client_assertion (a certificate-signed
//     JWT, or a federated token: here the apiserver's service-account token, checked against its
//     signing key, audience api://AzureADTokenExchange and subject); errors as
//     {"error":"invalid_client","error_description":"AADSTS..."}.
//   - IMDS (managed identity): GET /metadata/identity/oauth2/token with Metadata: true.
// The operator process trusts the servers' test CA through NODE_EXTRA_CA_CERTS: no verification
// is turned off anywhere.
import { execFile } from 'node:child_process';
import { createHash, createPublicKey, createVerify, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export const KEY_VAULT_RESOURCE = 'https://vault.azure.net';

export interface TestPki {
  dir: string;
  caFile: string;
  serverCert: string;
  serverKey: string;
  /** A self-signed certificate and its key (PEM): a service principal's client certificate. */
  clientPem: string;
  clientCertPem: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  await execFileP('openssl', args, { cwd });
}

export async function makePki(): Promise<TestPki> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-azure-'));
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=tessera-azure-test-ca'], dir);
  writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'], dir);
  await openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext'], dir);
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.crt', '-days', '2', '-subj', '/CN=tessera-sp'], dir);
  const read = (f: string) => readFileSync(path.join(dir, f), 'utf8');
  return { dir, caFile: path.join(dir, 'ca.crt'), serverCert: read('server.crt'), serverKey: read('server.key'), clientPem: read('client.crt') + read('client.key'), clientCertPem: read('client.crt') };
}

/**
 * One HTTPS (or HTTP) listener that can be stopped and started again on the same port. Stop
 * destroys every TCP socket, including those still in their TLS handshake: `closeAllConnections`
 * only sees sockets that reached HTTP, and a client polling every second keeps such a socket
 * alive, so `close` alone could wait for ever.
 */
class Listener {
  readonly #make: () => http.Server;
  #server: http.Server | undefined;
  readonly #sockets = new Set<Socket>();
  port: number;

  /** `port` 0 takes a free one, kept across stop and start. */
  constructor(make: () => http.Server, port = 0) {
    this.#make = make;
    this.port = port;
  }

  async start(): Promise<void> {
    const server = this.#make();
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  async stop(): Promise<void> {
    const s = this.#server;
    this.#server = undefined;
    if (!s) return;
    const closed = new Promise<void>((r) => s.close(() => r()));
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    await closed;
  }
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

async function bodyOf(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const b64url = (b: Buffer | Uint8Array) => Buffer.from(b).toString('base64url');

/** Verifies a compact JWS (RS256) with `key`; returns header and claims, or undefined. */
function verifyJwt(token: string, key: KeyObject): { header: Record<string, unknown>; claims: Record<string, unknown> } | undefined {
  const [h, p, s] = token.split('.');
  if (!h || !p || !s) return undefined;
  const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, unknown>;
  const algs: Record<string, string> = { RS256: 'RSA-SHA256', PS256: 'RSA-SHA256' };
  const alg = algs[String(header.alg)];
  if (!alg) return undefined;
  const v = createVerify(alg);
  v.update(`${h}.${p}`);
  const ok = header.alg === 'PS256' ? v.verify({ key, padding: 6, saltLength: 32 }, Buffer.from(s, 'base64url')) : v.verify(key, Buffer.from(s, 'base64url'));
  if (!ok) return undefined;
  return { header, claims: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown> };
}

type ClientCredential =
  | { kind: 'secret'; secret: string }
  | { kind: 'certificate'; publicKey: KeyObject }
  | { kind: 'federated'; issuerKey: KeyObject; subject: string };

/** Entra ID's v2.0 endpoints for one tenant, and IMDS. Issues opaque bearer tokens. */
export class EntraServer {
  readonly tenantId: string;
  readonly #clients = new Map<string, ClientCredential>();
  readonly #managedIdentities = new Set<string>();
  readonly #tokens = new Map<string, { clientId: string; expires: number }>();
  readonly listener: Listener;
  readonly imds: Listener;
  /** Token requests by outcome, for assertions. */
  readonly tokenRequests: Array<{ clientId: string; grant: string; ok: boolean }> = [];

  constructor(pki: TestPki, o: { port?: number; imdsPort?: number; tenantId?: string } = {}) {
    this.tenantId = o.tenantId ?? randomUUID();
    this.listener = new Listener(() => https.createServer({ cert: pki.serverCert, key: pki.serverKey }, (req, res) => void this.#handle(req, res)), o.port);
    // IMDS is plain HTTP on a link-local address in Azure; here on loopback.
    this.imds = new Listener(() => http.createServer((req, res) => this.#handleImds(req, res)), o.imdsPort);
  }

  get authority(): string {
    return `https://127.0.0.1:${this.listener.port}`;
  }

  get imdsUrl(): string {
    return `http://127.0.0.1:${this.imds.port}`;
  }

  registerSecret(clientId: string, secret: string): void {
    this.#clients.set(clientId, { kind: 'secret', secret });
  }

  registerCertificate(clientId: string, certPem: string): void {
    this.#clients.set(clientId, { kind: 'certificate', publicKey: createPublicKey(certPem) });
  }

  /** A federated credential: tokens of `subject` signed by the apiserver's service-account key. */
  registerFederated(clientId: string, issuerPublicKeyPem: string, subject: string): void {
    this.#clients.set(clientId, { kind: 'federated', issuerKey: createPublicKey(issuerPublicKeyPem), subject });
  }

  registerManagedIdentity(clientId: string): void {
    this.#managedIdentities.add(clientId);
  }

  /** Is `authorization` a live token this server issued? */
  tokenValid(authorization: string | undefined): boolean {
    const m = /^Bearer (.+)$/.exec(authorization ?? '');
    const t = m ? this.#tokens.get(m[1]!) : undefined;
    return t !== undefined && t.expires > Date.now();
  }

  #issue(clientId: string): { access_token: string; expires_in: number } {
    const token = b64url(randomBytes(24));
    this.#tokens.set(token, { clientId, expires: Date.now() + 3600_000 });
    return { access_token: token, expires_in: 3599 };
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.authority);
    const base = `${this.authority}/${this.tenantId}`;
    if (req.method === 'GET' && url.pathname === `/${this.tenantId}/v2.0/.well-known/openid-configuration`) {
      send(res, 200, {
        token_endpoint: `${base}/oauth2/v2.0/token`,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        issuer: `${base}/v2.0`,
        jwks_uri: `${base}/discovery/v2.0/keys`,
        response_types_supported: ['code', 'id_token', 'token'],
      });
      return;
    }
    if (req.method === 'POST' && url.pathname === `/${this.tenantId}/oauth2/v2.0/token`) {
      const form = new URLSearchParams(await bodyOf(req));
      const clientId = form.get('client_id') ?? '';
      const grant = form.get('grant_type') ?? '';
      const ok = grant === 'client_credentials' && form.get('scope') === `${KEY_VAULT_RESOURCE}/.default` && this.#credentialOk(clientId, form, `${base}/oauth2/v2.0/token`);
      this.tokenRequests.push({ clientId, grant, ok });
      if (!ok) {
        send(res, 401, {
          error: 'invalid_client',
          error_description: `AADSTS7000215: Invalid client secret or assertion provided for application '${clientId}'.\r\nTrace ID: ${randomUUID()}`,
          error_codes: [7000215],
          timestamp: new Date().toISOString(),
          trace_id: randomUUID(),
          correlation_id: randomUUID(),
        });
        return;
      }
      send(res, 200, { token_type: 'Bearer', ext_expires_in: 3599, ...this.#issue(clientId) });
      return;
    }
    send(res, 404, { error: 'invalid_request', error_description: `AADSTS90002: no such endpoint ${url.pathname}` });
  }

  #credentialOk(clientId: string, form: URLSearchParams, tokenEndpoint: string): boolean {
    const cred = this.#clients.get(clientId);
    if (!cred) return false;
    if (cred.kind === 'secret') return form.get('client_secret') === cred.secret;
    if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') return false;
    const assertion = form.get('client_assertion') ?? '';
    if (cred.kind === 'certificate') {
      const jwt = verifyJwt(assertion, cred.publicKey);
      return jwt !== undefined && jwt.claims.iss === clientId && jwt.claims.sub === clientId && jwt.claims.aud === tokenEndpoint && Number(jwt.claims.exp) * 1000 > Date.now();
    }
    const jwt = verifyJwt(assertion, cred.issuerKey);
    const aud = jwt?.claims.aud;
    const audiences = Array.isArray(aud) ? aud : [aud];
    return jwt !== undefined && jwt.claims.sub === cred.subject && audiences.includes('api://AzureADTokenExchange') && Number(jwt.claims.exp) * 1000 > Date.now();
  }

  #handleImds(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', this.imdsUrl);
    // MSAL asks for the path with a trailing slash, as IMDS accepts it.
    if (url.pathname.replace(/\/$/, '') !== '/metadata/identity/oauth2/token') return send(res, 404, { error: 'not_found' });
    if (req.headers.metadata !== 'true') return send(res, 400, { error: 'invalid_request', error_description: 'Required metadata header not specified' });
    const clientId = url.searchParams.get('client_id') ?? '';
    const resource = url.searchParams.get('resource');
    const ok = this.#managedIdentities.has(clientId) && resource === KEY_VAULT_RESOURCE;
    this.tokenRequests.push({ clientId, grant: 'managed_identity', ok });
    if (!ok) return send(res, 400, { error: 'invalid_request', error_description: 'Identity not found' });
    const t = this.#issue(clientId);
    send(res, 200, { ...t, expires_in: String(t.expires_in), expires_on: String(Math.floor(Date.now() / 1000) + t.expires_in), resource, token_type: 'Bearer', client_id: clientId });
  }

  async start(): Promise<void> {
    await this.listener.start();
    await this.imds.start();
  }

  async stop(): Promise<void> {
    await this.listener.stop();
    await this.imds.stop();
  }
}

interface Attributes {
  enabled: boolean;
  created: number;
  updated: number;
  exp?: number;
  nbf?: number;
}

interface Version<T> {
  id: string;
  value: T;
  tags: Record<string, string>;
  attributes: Attributes;
}

/** A JSON Web Key as Key Vault's wire format has it (public parts). */
export interface WireJwk {
  kty: string;
  key_ops: string[];
  n?: string;
  e?: string;
  crv?: string;
  x?: string;
  y?: string;
}

const PAGE_SIZE = 25;

/** Key Vault's data plane for one vault: secrets, keys and certificates, each with versions. */
export class KeyVaultServer {
  readonly #entra: EntraServer;
  readonly listener: Listener;
  readonly #secrets = new Map<string, Array<Version<string>>>();
  readonly #keys = new Map<string, Array<Version<WireJwk>>>();
  readonly #certs = new Map<string, Array<Version<Buffer>>>();
  /** Authorised requests, by "METHOD /collection[/name]" (versions folded), for call counts. */
  readonly requests: string[] = [];
  /**
   * Holds an authorised request (after it is counted) until the promise returned settles, to put
   * a read in flight at a chosen moment; undefined answers at once.
   */
  hold: ((request: string) => Promise<void> | undefined) | undefined;

  constructor(pki: TestPki, entra: EntraServer, o: { port?: number } = {}) {
    this.#entra = entra;
    this.listener = new Listener(() => https.createServer({ cert: pki.serverCert, key: pki.serverKey }, (req, res) => this.#handle(req, res)), o.port);
  }

  get vaultUrl(): string {
    return `https://127.0.0.1:${this.listener.port}`;
  }

  #add<T>(store: Map<string, Array<Version<T>>>, collection: string, name: string, value: T, tags: Record<string, string>, extra: Partial<Attributes>): string {
    const version = randomUUID().replaceAll('-', '');
    const now = Math.floor(Date.now() / 1000);
    const list = store.get(name) ?? [];
    list.push({ id: `${this.vaultUrl}/${collection}/${name}/${version}`, value, tags, attributes: { enabled: true, created: now, updated: now, ...extra } });
    store.set(name, list);
    return version;
  }

  setSecret(name: string, value: string, tags: Record<string, string> = {}, extra: Partial<Attributes> = {}): string {
    return this.#add(this.#secrets, 'secrets', name, value, tags, extra);
  }

  setKey(name: string, jwk: WireJwk, tags: Record<string, string> = {}): string {
    return this.#add(this.#keys, 'keys', name, jwk, tags, {});
  }

  setCertificate(name: string, der: Buffer, tags: Record<string, string> = {}): string {
    return this.#add(this.#certs, 'certificates', name, der, tags, {});
  }

  deleteSecret(name: string): void {
    this.#secrets.delete(name);
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (!this.#entra.tokenValid(req.headers.authorization)) {
      send(res, 401, { error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' } }, {
        'www-authenticate': `Bearer authorization="${this.#entra.authority}/${this.#entra.tenantId}", resource="${KEY_VAULT_RESOURCE}"`,
      });
      return;
    }
    const url = new URL(req.url ?? '/', this.vaultUrl);
    const [collection, name, version] = url.pathname.split('/').filter(Boolean);
    const request = `${req.method} /${collection ?? ''}${name ? `/${name}` : ''}`;
    this.requests.push(request);
    const held = this.hold?.(request);
    if (held) {
      void held.then(() => this.#answer(req, res, url, collection, name, version));
      return;
    }
    this.#answer(req, res, url, collection, name, version);
  }

  #answer(req: http.IncomingMessage, res: http.ServerResponse, url: URL, collection: string | undefined, name: string | undefined, version: string | undefined): void {
    if (res.destroyed) return;
    if (req.method !== 'GET') return send(res, 405, { error: { code: 'BadParameter', message: 'method not allowed' } });
    if (collection === 'secrets' && name === undefined) return this.#listSecrets(url, res);
    const found = (store: Map<string, Array<Version<unknown>>>, code: string, what: string) => {
      const list = store.get(name ?? '') ?? [];
      const v = version ? list.find((x) => x.id.endsWith(`/${version}`)) : list.at(-1);
      if (!v) send(res, 404, { error: { code, message: `A ${what} with (name/id) ${name}${version ? `/${version}` : ''} was not found in this key vault.` } });
      return v;
    };
    if (collection === 'secrets') {
      const v = found(this.#secrets as Map<string, Array<Version<unknown>>>, 'SecretNotFound', 'secret') as Version<string> | undefined;
      if (v) send(res, 200, { value: v.value, id: v.id, attributes: { ...v.attributes, recoveryLevel: 'Recoverable+Purgeable' }, tags: v.tags });
      return;
    }
    if (collection === 'keys') {
      const v = found(this.#keys as Map<string, Array<Version<unknown>>>, 'KeyNotFound', 'key') as Version<WireJwk> | undefined;
      if (v) send(res, 200, { key: { kid: v.id, ...v.value }, attributes: { ...v.attributes, recoveryLevel: 'Recoverable+Purgeable' }, tags: v.tags });
      return;
    }
    if (collection === 'certificates') {
      const v = found(this.#certs as Map<string, Array<Version<unknown>>>, 'CertificateNotFound', 'certificate') as Version<Buffer> | undefined;
      if (v) {
        const cerId = v.id.split('/').at(-1)!;
        send(res, 200, {
          id: v.id,
          kid: `${this.vaultUrl}/keys/${name}/${cerId}`,
          sid: `${this.vaultUrl}/secrets/${name}/${cerId}`,
          x5t: b64url(createHash('sha1').update(v.value).digest()),
          cer: v.value.toString('base64'),
          attributes: { ...v.attributes, recoveryLevel: 'Recoverable+Purgeable' },
          tags: v.tags,
        });
      }
      return;
    }
    send(res, 400, { error: { code: 'BadParameter', message: `unknown collection ${collection ?? ''}` } });
  }

  #listSecrets(url: URL, res: http.ServerResponse): void {
    const all = [...this.#secrets].map(([name, versions]) => ({ name, latest: versions.at(-1)! }));
    const skip = Number(url.searchParams.get('$skiptoken') ?? '0');
    const page = all.slice(skip, skip + PAGE_SIZE);
    const next = skip + PAGE_SIZE < all.length ? `${this.vaultUrl}/secrets?api-version=${url.searchParams.get('api-version') ?? '7.5'}&$skiptoken=${skip + PAGE_SIZE}` : null;
    send(res, 200, {
      value: page.map(({ name, latest }) => ({ id: `${this.vaultUrl}/secrets/${name}`, attributes: latest.attributes, tags: latest.tags })),
      nextLink: next,
    });
  }
}
