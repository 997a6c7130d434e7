// The real peers of the test suite, on 127.0.0.1 only: etcd, kube-apiserver,
// kube-controller-manager, moto (AWS), OpenBao (Vault API) and gcpsm (a Google Cloud Secret
// Manager emulator, test/peers/go/gcpsm).
//
// `up` builds what is missing (test/peers/build.sh caches builds outside the repo), starts each
// peer detached, waits until it is ready and records its pid under .peers/. It is idempotent: a
// peer whose recorded pid is alive and healthy is reused. `down` stops exactly those pids.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const execFileP = promisify(execFile);

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const stateDir = process.env.TESSERA_PEERS_DIR ?? path.join(repoRoot, '.peers');
const buildScript = path.join(repoRoot, 'test/peers/build.sh');

export type PeerName = 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'moto' | 'bao' | 'gcpsm';
export const allPeers: PeerName[] = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'moto', 'bao', 'gcpsm'];

/** Ports are fixed (and documented in README) so a developer can point tools at them. */
export const ports = {
  etcdClient: num(process.env.TESSERA_ETCD_PORT, 23790),
  etcdPeer: num(process.env.TESSERA_ETCD_PEER_PORT, 23800),
  apiserver: num(process.env.TESSERA_APISERVER_PORT, 26443),
  controllerManager: num(process.env.TESSERA_KCM_PORT, 26257),
  moto: num(process.env.TESSERA_MOTO_PORT, 25000),
  bao: num(process.env.TESSERA_BAO_PORT, 28200),
  gcpsm: num(process.env.TESSERA_GCPSM_PORT, 28085),
};

function num(v: string | undefined, d: number): number {
  return v ? Number.parseInt(v, 10) : d;
}

export const BAO_ROOT_TOKEN = 'tessera-dev-root';

export interface PeersEnv {
  KUBECONFIG: string;
  KUBE_APISERVER_URL: string;
  AWS_ENDPOINT_URL: string;
  AWS_REGION: string;
  AWS_ACCESS_KEY_ID: string;
  AWS_SECRET_ACCESS_KEY: string;
  VAULT_ADDR: string;
  VAULT_TOKEN: string;
  [k: string]: string;
}

export function peersEnv(): PeersEnv {
  return {
    KUBECONFIG: path.join(stateDir, 'pki', 'admin.kubeconfig'),
    KUBE_APISERVER_URL: `https://127.0.0.1:${ports.apiserver}`,
    AWS_ENDPOINT_URL: `http://127.0.0.1:${ports.moto}`,
    AWS_REGION: 'us-west-2',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    VAULT_ADDR: `http://127.0.0.1:${ports.bao}`,
    VAULT_TOKEN: BAO_ROOT_TOKEN,
    TESSERA_GCPSM_ENDPOINT: `http://127.0.0.1:${ports.gcpsm}`,
    TESSERA_GCP_TOKEN_URL: `http://127.0.0.1:${ports.gcpsm}/token`,
    GCPSM_SA_KEY_FILE: gcpsmKeyFile(),
  };
}

/** The emulator's project and the service account whose key its token endpoint accepts. */
export const GCPSM_PROJECT = 'tessera-test';
export const GCPSM_SA_EMAIL = `tessera-operator@${GCPSM_PROJECT}.iam.gserviceaccount.com`;

export function gcpsmKeyFile(): string {
  return path.join(stateDir, 'gcpsm', 'sa-key.json');
}

/**
 * A service-account key JSON in Google's format, made once per state dir: the emulator's /token
 * endpoint accepts JWT assertions signed with it, as Google's accepts a real key's.
 */
async function ensureGcpsmKey(): Promise<string> {
  const file = gcpsmKeyFile();
  if (existsSync(file)) return file;
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true });
  await openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'sa.pem'], dir);
  const key = {
    type: 'service_account',
    project_id: GCPSM_PROJECT,
    private_key_id: 'tessera-test-key-1',
    private_key: readFileSync(path.join(dir, 'sa.pem'), 'utf8'),
    client_email: GCPSM_SA_EMAIL,
    client_id: '100000000000000000001',
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: `http://127.0.0.1:${ports.gcpsm}/token`,
  };
  writeFileSync(`${file}.tmp`, JSON.stringify(key, null, 2), { mode: 0o600 });
  // Renamed last: its presence means the key is complete.
  renameSync(`${file}.tmp`, file);
  return file;
}

function log(msg: string): void {
  process.stderr.write(`[peers] ${msg}\n`);
}

async function binaries(): Promise<Record<string, string>> {
  const { stdout } = await execFileP('bash', [buildScript, 'paths']);
  const out: Record<string, string> = {};
  for (const line of stdout.trim().split('\n')) {
    const i = line.indexOf('=');
    out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

async function build(what: 'etcd' | 'kube' | 'python' | 'gcpsm'): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn('bash', [buildScript, what], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`build.sh ${what} exited with ${code}`))));
  });
}

// ---------------------------------------------------------------------------------------------
// PKI: a CA, the apiserver's serving certificate, an admin client certificate, and the
// service-account signing key pair. Made once per state dir with openssl.

async function openssl(args: string[], cwd: string): Promise<void> {
  await execFileP('openssl', args, { cwd });
}

async function ensurePki(): Promise<string> {
  const dir = path.join(stateDir, 'pki');
  if (existsSync(path.join(dir, 'admin.kubeconfig'))) return dir;
  mkdirSync(dir, { recursive: true });
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '3650', '-subj', '/CN=tessera-test-ca'], dir);
  writeFileSync(
    path.join(dir, 'server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n',
  );
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=kube-apiserver'], dir);
  await openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '3650', '-extfile', 'server.ext'], dir);
  writeFileSync(path.join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'admin.key', '-out', 'admin.csr', '-subj', '/O=system:masters/CN=tessera-admin'], dir);
  await openssl(['x509', '-req', '-in', 'admin.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'admin.crt', '-days', '3650', '-extfile', 'client.ext'], dir);
  await openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'sa.key'], dir);
  await openssl(['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
  const b64 = (f: string) => readFileSync(path.join(dir, f)).toString('base64');
  const kubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: tessera-test
  cluster:
    server: https://127.0.0.1:${ports.apiserver}
    certificate-authority-data: ${b64('ca.crt')}
users:
- name: tessera-admin
  user:
    client-certificate-data: ${b64('admin.crt')}
    client-key-data: ${b64('admin.key')}
contexts:
- name: tessera-test
  context:
    cluster: tessera-test
    user: tessera-admin
current-context: tessera-test
`;
  writeFileSync(path.join(dir, 'admin.kubeconfig.tmp'), kubeconfig, { mode: 0o600 });
  // Written last under its final name: its presence means the PKI is complete.
  writeFileSync(path.join(dir, 'admin.kubeconfig'), kubeconfig, { mode: 0o600 });
  rmSync(path.join(dir, 'admin.kubeconfig.tmp'));
  return dir;
}

// ---------------------------------------------------------------------------------------------
// Process bookkeeping

function pidFile(name: PeerName): string {
  return path.join(stateDir, 'pids', `${name}.pid`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid of a peer these scripts started and that is still running (the bench reads its CPU time). */
export function recordedPid(name: PeerName): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(pidFile(name), 'utf8'), 10);
    return Number.isFinite(pid) && alive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

function startDetached(name: PeerName, cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  mkdirSync(path.join(stateDir, 'pids'), { recursive: true });
  mkdirSync(path.join(stateDir, 'logs'), { recursive: true });
  const out = openSync(path.join(stateDir, 'logs', `${name}.log`), 'a');
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', out, out], env });
  if (child.pid === undefined) throw new Error(`could not start ${name} (${cmd})`);
  child.unref();
  writeFileSync(pidFile(name), String(child.pid));
  return child.pid;
}

// ---------------------------------------------------------------------------------------------
// Health probes

interface ProbeResult {
  ok: boolean;
  detail: string;
}

function httpGet(url: string, opts: https.RequestOptions = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.get(url, { ...opts, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

function adminTls(): https.RequestOptions {
  const dir = path.join(stateDir, 'pki');
  return {
    ca: readFileSync(path.join(dir, 'ca.crt')),
    cert: readFileSync(path.join(dir, 'admin.crt')),
    key: readFileSync(path.join(dir, 'admin.key')),
  };
}

const probes: Record<PeerName, () => Promise<ProbeResult>> = {
  etcd: async () => {
    const r = await httpGet(`http://127.0.0.1:${ports.etcdClient}/health`);
    return { ok: r.status === 200 && r.body.includes('"true"'), detail: r.body };
  },
  'kube-apiserver': async () => {
    const r = await httpGet(`https://127.0.0.1:${ports.apiserver}/readyz`, adminTls());
    return { ok: r.status === 200, detail: `${r.status} ${r.body.slice(0, 200)}` };
  },
  'kube-controller-manager': async () => {
    const r = await httpGet(`https://127.0.0.1:${ports.controllerManager}/healthz`, { rejectUnauthorized: false });
    return { ok: r.status === 200, detail: `${r.status} ${r.body.slice(0, 200)}` };
  },
  moto: async () => {
    const r = await httpGet(`http://127.0.0.1:${ports.moto}/moto-api/data.json`);
    return { ok: r.status === 200, detail: String(r.status) };
  },
  bao: async () => {
    const r = await httpGet(`http://127.0.0.1:${ports.bao}/v1/sys/health`);
    return { ok: r.status === 200, detail: `${r.status} ${r.body.slice(0, 200)}` };
  },
  gcpsm: async () => {
    const r = await httpGet(`http://127.0.0.1:${ports.gcpsm}/healthz`);
    return { ok: r.status === 200, detail: `${r.status} ${r.body.slice(0, 200)}` };
  },
};

async function probe(name: PeerName): Promise<ProbeResult> {
  try {
    return await probes[name]();
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  }
}

async function waitReady(name: PeerName, pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: ProbeResult = { ok: false, detail: 'not probed' };
  while (Date.now() < deadline) {
    if (!alive(pid)) {
      throw new Error(`${name} exited during start-up; see ${path.join(stateDir, 'logs', `${name}.log`)}`);
    }
    last = await probe(name);
    if (last.ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${name} not ready after ${timeoutMs} ms (${last.detail}); see ${path.join(stateDir, 'logs', `${name}.log`)}`);
}

// ---------------------------------------------------------------------------------------------
// Starting each peer

async function startPeer(name: PeerName, bin: Record<string, string>, pki: string): Promise<number> {
  const p = (f: string) => path.join(pki, f);
  switch (name) {
    case 'etcd': {
      const data = path.join(stateDir, 'etcd-data');
      return startDetached(name, bin.ETCD_BIN!, [
        '--name=tessera-test',
        `--data-dir=${data}`,
        `--listen-client-urls=http://127.0.0.1:${ports.etcdClient}`,
        `--advertise-client-urls=http://127.0.0.1:${ports.etcdClient}`,
        `--listen-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
        `--initial-cluster=tessera-test=http://127.0.0.1:${ports.etcdPeer}`,
        '--unsafe-no-fsync', // test data only: trade durability for speed
        '--quota-backend-bytes=4294967296',
        '--log-level=warn',
      ]);
    }
    case 'kube-apiserver':
      return startDetached(name, bin.KUBE_APISERVER_BIN!, [
        `--etcd-servers=http://127.0.0.1:${ports.etcdClient}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${ports.apiserver}`,
        `--tls-cert-file=${p('server.crt')}`,
        `--tls-private-key-file=${p('server.key')}`,
        `--client-ca-file=${p('ca.crt')}`,
        '--authorization-mode=RBAC',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${p('sa.pub')}`,
        `--service-account-signing-key-file=${p('sa.key')}`,
        '--api-audiences=https://kubernetes.default.svc.cluster.local',
        '--service-cluster-ip-range=10.96.0.0/16',
        // A loopback advertise address cannot back the kubernetes Service's endpoints.
        '--endpoint-reconciler-type=none',
        `--cert-dir=${path.join(stateDir, 'apiserver-certs')}`,
        // Priority and fairness stays on, as in every real cluster: the operator's client-side
        // rate limit is tuned against an apiserver that protects itself (docs/performance.md).
        '--enable-priority-and-fairness=true',
        // PodTemplates bypass the watch cache, so the informer test can provoke a real 410 Gone
        // by compacting etcd; nothing else in the suite uses them.
        '--watch-cache-sizes=podtemplates#0',
        '--v=1',
      ]);
    case 'kube-controller-manager':
      return startDetached(name, bin.KUBE_CONTROLLER_MANAGER_BIN!, [
        `--kubeconfig=${p('admin.kubeconfig')}`,
        `--authentication-kubeconfig=${p('admin.kubeconfig')}`,
        `--authorization-kubeconfig=${p('admin.kubeconfig')}`,
        '--controllers=garbage-collector-controller,namespace-controller,serviceaccount-controller',
        `--root-ca-file=${p('ca.crt')}`,
        `--service-account-private-key-file=${p('sa.key')}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${ports.controllerManager}`,
        `--cert-dir=${path.join(stateDir, 'kcm-certs')}`,
        '--leader-elect=false',
        '--v=1',
      ]);
    case 'moto':
      return startDetached(name, bin.MOTO_SERVER_BIN!, ['-H', '127.0.0.1', '-p', String(ports.moto)]);
    case 'bao':
      return startDetached(name, bin.BAO_BIN!, [
        'server',
        '-dev',
        `-dev-root-token-id=${BAO_ROOT_TOKEN}`,
        `-dev-listen-address=127.0.0.1:${ports.bao}`,
        '-dev-no-store-token',
      ], { ...process.env, HOME: path.join(stateDir, 'bao-home') });
    case 'gcpsm':
      return startDetached(name, bin.GCPSM_BIN!, [`-listen=127.0.0.1:${ports.gcpsm}`, `-sa-key=${await ensureGcpsmKey()}`, '-require-auth']);
  }
}

const startTimeoutMs: Record<PeerName, number> = {
  etcd: 30_000,
  'kube-apiserver': 120_000,
  'kube-controller-manager': 60_000,
  moto: 60_000,
  bao: 30_000,
  gcpsm: 30_000,
};

const dependsOn: Record<PeerName, PeerName[]> = {
  etcd: [],
  'kube-apiserver': ['etcd'],
  'kube-controller-manager': ['kube-apiserver'],
  moto: [],
  bao: [],
  gcpsm: [],
};

function closure(names: PeerName[]): PeerName[] {
  const out = new Set<PeerName>();
  const visit = (n: PeerName) => {
    for (const d of dependsOn[n]) visit(d);
    out.add(n);
  };
  names.forEach(visit);
  return allPeers.filter((n) => out.has(n));
}

function buildsFor(names: PeerName[]): Array<'etcd' | 'kube' | 'python' | 'gcpsm'> {
  const b = new Set<'etcd' | 'kube' | 'python' | 'gcpsm'>();
  for (const n of names) {
    if (n === 'etcd') b.add('etcd');
    else if (n === 'moto' || n === 'bao') b.add('python');
    else if (n === 'gcpsm') b.add('gcpsm');
    else b.add('kube');
  }
  return [...b];
}

/** Starts (or reuses) the named peers and what they depend on; writes .peers/env. */
export async function peersUp(names: PeerName[] = allPeers): Promise<PeersEnv> {
  mkdirSync(stateDir, { recursive: true });
  return withLock(() => peersUpLocked(names));
}

/** Serialises concurrent `up` calls (test files run in parallel processes) with a lock dir. */
async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  const lock = path.join(stateDir, 'lock');
  const deadline = Date.now() + 30 * 60_000; // a cold build may hold it for a long time
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch {
      let holder = NaN;
      try {
        holder = Number.parseInt(readFileSync(path.join(lock, 'pid'), 'utf8'), 10);
      } catch {
        /* being created or removed */
      }
      if (Number.isFinite(holder) && !alive(holder)) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

async function peersUpLocked(names: PeerName[]): Promise<PeersEnv> {
  const wanted = closure(names);
  for (const b of buildsFor(wanted)) await build(b);
  const bin = await binaries();
  const pki = await ensurePki();
  mkdirSync(path.join(stateDir, 'bao-home'), { recursive: true });
  for (const name of wanted) {
    const running = recordedPid(name);
    if (running !== undefined && (await probe(name)).ok) continue;
    if (running !== undefined) {
      // Alive but unhealthy: give it the benefit of the doubt before replacing it.
      try {
        await waitReady(name, running, 15_000);
        continue;
      } catch {
        stopPid(name, running);
      }
    }
    const t0 = Date.now();
    const pid = startPeer(name, bin, pki);
    await waitReady(name, await pid, startTimeoutMs[name]);
    log(`${name} ready in ${Date.now() - t0} ms (pid ${await pid})`);
  }
  const env = peersEnv();
  writeFileSync(
    path.join(stateDir, 'env'),
    Object.entries(env)
      .map(([k, v]) => `export ${k}=${JSON.stringify(v)}`)
      .join('\n') + '\n',
  );
  return env;
}

function stopPid(name: PeerName, pid: number): void {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    /* already gone */
  }
  rmSync(pidFile(name), { force: true });
}

/** Stops exactly the processes `peersUp` started (by recorded pid) and waits for them to exit. */
export async function peersDown(names: PeerName[] = allPeers): Promise<void> {
  const stopping: Array<[PeerName, number]> = [];
  for (const name of [...closureReverse(names)]) {
    const pid = recordedPid(name);
    rmSync(pidFile(name), { force: true });
    if (pid === undefined) continue;
    process.kill(pid, 'SIGTERM');
    stopping.push([name, pid]);
  }
  const deadline = Date.now() + 15_000;
  for (const [name, pid] of stopping) {
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (alive(pid)) {
      process.kill(pid, 'SIGKILL');
      log(`${name} (pid ${pid}) killed after SIGTERM timeout`);
    } else {
      log(`${name} (pid ${pid}) stopped`);
    }
  }
}

function closureReverse(names: PeerName[]): PeerName[] {
  // Dependants first, so the apiserver stops before etcd.
  return [...allPeers].reverse().filter((n) => names.includes(n));
}

/** Stops one peer and starts it again (used by restart and outage tests). */
export async function restartPeer(name: PeerName): Promise<void> {
  await stopPeer(name);
  await peersUp([name]);
}

/** Stops one peer and waits until its process is gone. */
export async function stopPeer(name: PeerName): Promise<void> {
  await peersDown([name]);
}

export async function peersStatus(): Promise<Array<{ name: PeerName; pid?: number; ok: boolean; detail: string }>> {
  const out = [];
  for (const name of allPeers) {
    const pid = recordedPid(name);
    const r = pid === undefined ? { ok: false, detail: 'not running' } : await probe(name);
    out.push({ name, ...(pid !== undefined ? { pid } : {}), ...r });
  }
  return out;
}

/** For tests: the peers they need, started on demand. Fails loudly when one cannot start. */
export async function ensurePeers(names: PeerName[]): Promise<PeersEnv> {
  return peersUp(names);
}
