// The harness of the tenant-safety suites (issue 9): an operator process of its own per test,
// tenants with healthy stores, and `whileAttacked`, which measures what an attack costs everyone
// else: a second tenant's fresh ExternalSecret reaching Ready, /healthz answering, the process
// surviving. The figures are returned, so tests both assert and print them.
//
// Why one operator per test, with its own --controller-class: a finding such as ReDoS hangs the
// event loop for good and a memory bomb kills the process, so an attack must not outlive its test.
// The peers are shared with other people's runs, whose operators handle every store with an empty
// or "default" spec.controller: our stores name a class of ours, so their operators skip our
// hostile objects (and a previous test's leftovers are skipped by the next test's operator).
import { type TestContext } from 'node:test';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { KubeClient } from '../../../src/kube/client.ts';
import { core, type CoreEvent, type KubeObject, type Secret } from '../../../src/kube/types.ts';
import { clusterSecretStores, externalSecrets, secretStores } from '../../../src/controllers/resources.ts';
import type { ExternalSecret } from '../../../src/api/types.generated.ts';
import { stateDir, type PeerName, type PeersEnv } from '../../peers/index.ts';
import { startOperator, type Operator } from '../../peers/operator.ts';
import { adminClient, freshNamespace, onCleanup, peers, sleep, waitFor } from '../helpers.ts';
import { installTessera } from '../operator.ts';
import { anExternalSecret, withData, withName, withNamespace, withStore, withUid } from '../../fixtures/builders.ts';
import { aSecretStore, withController, withFakeData, withStoreName, withStoreNamespace } from '../../fixtures/stores.ts';

export { sleep, waitFor };

export interface Suite {
  env: PeersEnv;
  admin: KubeClient;
  /** A short random id of this run, for names that must not collide with other runs. */
  run: string;
}

/** Peers, an admin client, and the CRDs and RBAC installed. Call once per file, in before(). */
export async function suite(names: PeerName[] = ['etcd', 'kube-apiserver', 'kube-controller-manager']): Promise<Suite> {
  const env = await peers(names);
  const admin = await adminClient();
  await installTessera(admin);
  return { env, admin, run: randomBytes(3).toString('hex') };
}

// ---------------------------------------------------------------------------------------------
// The operator under test

export interface TestOperator extends Operator {
  controllerClass: string;
}

let operators = 0;

/**
 * Starts `tessera run` (the shared launcher: its own process under its shipped RBAC), handling
 * only stores whose spec.controller is `controllerClass` (or empty). Killed when the test file
 * ends at the latest.
 */
export async function startTestOperator(s: Suite, o: { controllerClass?: string; args?: string[]; env?: Record<string, string>; logLevel?: string } = {}): Promise<TestOperator> {
  const controllerClass = o.controllerClass ?? `sec-${s.run}-${++operators}`;
  const op = await startOperator(s.admin, s.env, [`--controller-class=${controllerClass}`, ...(o.args ?? [])], o.env ?? {},
    { logLevel: o.logLevel ?? process.env.TESSERA_SECURITY_LOG_LEVEL ?? 'debug' });
  onCleanup(() => op.kill(2000));
  return { ...op, controllerClass };
}

// ---------------------------------------------------------------------------------------------
// Tenants

export interface Tenant {
  ns: string;
  store: string;
  controllerClass: string;
}

/** A namespace with a fake-provider SecretStore of the operator's class holding `data`. */
export async function fakeTenant(s: Suite, op: { controllerClass: string }, data: Record<string, string>, prefix = 'tenant'): Promise<Tenant> {
  const ns = await freshNamespace(s.admin, prefix);
  await s.admin.create(secretStores, aSecretStore(withStoreName('fake'), withStoreNamespace(ns), withController(op.controllerClass), withFakeData(data)) as unknown as KubeObject);
  return { ns, store: 'fake', controllerClass: op.controllerClass };
}

/** An ExternalSecret of the cluster (no uid; the apiserver sets it) in the tenant's namespace. */
export function tenantES(tenant: Tenant, name: string, ...options: Array<(es: ExternalSecret) => void>): KubeObject {
  return anExternalSecret(withUid(undefined), withName(name), withNamespace(tenant.ns), withStore(tenant.store), ...options) as unknown as KubeObject;
}

export async function createAll(admin: KubeClient, objects: KubeObject[], concurrency = 20): Promise<void> {
  let i = 0;
  const worker = async () => {
    while (i < objects.length) {
      const obj = objects[i++]!;
      const rt = obj.kind === 'ExternalSecret' ? externalSecrets : obj.kind === 'SecretStore' ? secretStores : obj.kind === 'ClusterSecretStore' ? clusterSecretStores : obj.kind === 'Secret' ? core.secrets : undefined;
      if (!rt) throw new Error(`createAll: unsupported kind ${obj.kind}`);
      await admin.create(rt, obj);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

export interface Bystander extends Tenant {
  admin: KubeClient;
  created: number;
}

const BYSTANDER_VALUE = 'bystander-value';

/** The second tenant: a healthy fake store; each measurement creates a fresh ExternalSecret. */
export async function aBystander(s: Suite, op: { controllerClass: string }): Promise<Bystander> {
  const t = await fakeTenant(s, op, { 'by/key': BYSTANDER_VALUE }, 'bystander');
  return { ...t, admin: s.admin, created: 0 };
}

/**
 * Creates a fresh ExternalSecret in the bystander's namespace and returns the milliseconds until
 * it is Ready=True with the right Secret, or undefined when that did not happen within `boundMs`.
 */
export async function bystanderSync(b: Bystander, boundMs: number): Promise<number | undefined> {
  const name = `by-${++b.created}`;
  const t0 = performance.now();
  await b.admin.create(externalSecrets, tenantES(b, name, withData('key', 'by/key')));
  try {
    await waitFor(`bystander ${b.ns}/${name} Ready=True with its Secret`, async () => {
      const es = await b.admin.tryGet<KubeObject & { status?: { conditions?: Array<{ type: string; status: string }> } }>(externalSecrets, b.ns, name);
      if (es?.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True') return false;
      const sec = await b.admin.tryGet<Secret>(core.secrets, b.ns, name);
      return sec?.data?.key === Buffer.from(BYSTANDER_VALUE).toString('base64');
    }, boundMs, 100);
    return Math.round(performance.now() - t0);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// whileAttacked

export interface HealthFigures {
  samples: number;
  /** Samples that did not answer 200 within the timeout. */
  failures: number;
  maxMs: number;
  p50Ms: number;
  firstFailure?: string;
}

export interface AttackFigures<T> {
  /** Time from the start of the attack to the end of every measurement. */
  windowMs: number;
  /** A fresh bystander ExternalSecret's time to Ready=True; undefined when over the bound. */
  bystanderReadyMs: number | undefined;
  bystanderBoundMs: number;
  health: HealthFigures;
  healthBoundMs: number;
  pid: number;
  /** The operator process was alive at the end of the window. */
  alive: boolean;
  attackMs: number;
  attackResult?: T;
  attackError?: string;
}

async function sampleHealth(url: string, everyMs: number, timeoutMs: number, stop: AbortSignal): Promise<HealthFigures> {
  const times: number[] = [];
  let failures = 0;
  let firstFailure: string | undefined;
  while (!stop.aborted) {
    const t0 = performance.now();
    let ok = false;
    let why = '';
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      await res.text();
      ok = res.status === 200;
      why = `status ${res.status}`;
    } catch (e) {
      why = (e as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e as Error).message;
    }
    const ms = performance.now() - t0;
    times.push(ms);
    if (!ok) {
      failures++;
      firstFailure ??= why;
    }
    await sleep(Math.max(0, everyMs - ms));
  }
  const sorted = [...times].sort((a, b) => a - b);
  return {
    samples: times.length,
    failures,
    maxMs: Math.round(sorted.at(-1) ?? 0),
    p50Ms: Math.round(sorted[Math.floor(sorted.length / 2)] ?? 0),
    ...(firstFailure ? { firstFailure } : {}),
  };
}

/** /healthz of the operator sampled every 250 ms (1 s timeout) while `fn` runs. */
export async function healthDuring<T>(op: { healthUrl: string }, fn: () => Promise<T>, o: { everyMs?: number; timeoutMs?: number } = {}): Promise<{ result: T; health: HealthFigures }> {
  const stop = new AbortController();
  const health = sampleHealth(`${op.healthUrl}/healthz`, o.everyMs ?? 250, o.timeoutMs ?? 1000, stop.signal);
  try {
    return { result: await fn(), health: await (stop.abort(), health) };
  } finally {
    stop.abort();
  }
}

export interface AttackOptions {
  bystander: Bystander;
  operator: TestOperator;
  /** How long the bystander may take to reach Ready (default 15 s). */
  boundMs?: number;
  /** Delay between the start of the attack and the bystander's creation (default 1.5 s). */
  bystanderDelayMs?: number;
  /** The shortest measurement window (default 5 s). */
  minWindowMs?: number;
  /** How long one /healthz request may take (default 1 s). */
  healthTimeoutMs?: number;
  /** Interval between /healthz samples (default 250 ms). */
  healthEveryMs?: number;
}

/**
 * Runs `attack` (typically: create the hostile objects, then wait for their outcome) and measures,
 * throughout: /healthz every 250 ms with a 1 s timeout, a fresh bystander ExternalSecret's time to
 * Ready (bounded), and whether the operator's pid is alive at the end. Never throws for the
 * attack's failure: the error is in the figures, so the measurements are always reported.
 */
export async function whileAttacked<T>(attack: () => Promise<T>, o: AttackOptions): Promise<AttackFigures<T>> {
  const boundMs = o.boundMs ?? 15_000;
  const healthBoundMs = o.healthTimeoutMs ?? 1000;
  const stop = new AbortController();
  const t0 = performance.now();
  const health = sampleHealth(`${o.operator.healthUrl}/healthz`, o.healthEveryMs ?? 250, healthBoundMs, stop.signal);
  let attackMs = 0;
  const attacked = attack().then(
    (result) => ({ result }),
    (e: unknown) => ({ error: e instanceof Error ? e.message : String(e) }),
  ).finally(() => (attackMs = Math.round(performance.now() - t0)));
  await sleep(o.bystanderDelayMs ?? 1500);
  const bystanderReadyMs = await bystanderSync(o.bystander, boundMs);
  const outcome = await attacked;
  const rest = (o.minWindowMs ?? 5000) - (performance.now() - t0);
  if (rest > 0) await sleep(rest);
  stop.abort();
  const figures: AttackFigures<T> = {
    windowMs: Math.round(performance.now() - t0),
    bystanderReadyMs,
    bystanderBoundMs: boundMs,
    health: await health,
    healthBoundMs,
    pid: o.operator.pid,
    alive: o.operator.alive(),
    attackMs,
  };
  if ('result' in outcome) figures.attackResult = outcome.result;
  else figures.attackError = outcome.error;
  return figures;
}

/** Prints the figures as test diagnostics (in the TAP/spec output) and on stderr. */
export function report(t: TestContext, figures: AttackFigures<unknown>): void {
  const { attackResult: _omit, ...shown } = figures;
  // null, not a missing field, when the bystander was late.
  const line = JSON.stringify({ ...shown, bystanderReadyMs: shown.bystanderReadyMs ?? null });
  t.diagnostic(line);
  process.stderr.write(`[security] ${t.name}: ${line}\n`);
}

/** The three promises of the issue: bystander Ready within the bound, /healthz within 1 s, alive. */
export function withstood(figures: AttackFigures<unknown>): string[] {
  const problems: string[] = [];
  if (figures.bystanderReadyMs === undefined) problems.push(`the bystander's ExternalSecret was not Ready within ${figures.bystanderBoundMs} ms`);
  if (figures.health.failures > 0) problems.push(`/healthz failed ${figures.health.failures} of ${figures.health.samples} samples (${figures.health.firstFailure}; max ${figures.health.maxMs} ms)`);
  if (!figures.alive) problems.push(`the operator (pid ${figures.pid}) died`);
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Conditions, metrics, Secrets

export interface Condition { type: string; status: string; reason?: string; message?: string }

export async function readyOf(admin: KubeClient, rt: typeof externalSecrets, ns: string | undefined, name: string): Promise<Condition | undefined> {
  const obj = await admin.tryGet<KubeObject & { status?: { conditions?: Condition[] } }>(rt, ns, name);
  return obj?.status?.conditions?.find((c) => c.type === 'Ready');
}

/** Waits until the object's Ready condition has `status` and its message matches; returns it. */
export function waitCondition(admin: KubeClient, rt: typeof externalSecrets, ns: string | undefined, name: string, status: 'True' | 'False', match: RegExp = /./, timeoutMs = 30_000): Promise<Condition> {
  return waitFor(`${rt.kind} ${ns ?? ''}/${name} Ready=${status} ${match}`, async () => {
    const c = await readyOf(admin, rt, ns, name);
    return c && c.status === status && match.test(c.message ?? '') ? c : undefined;
  }, timeoutMs, 200);
}

/** Sum of the samples of one metric whose labels include `labels`. */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const open = line.indexOf('{');
    const close = line.lastIndexOf('}');
    const have: Record<string, string> = {};
    if (open === name.length) {
      for (const m of line.slice(open + 1, close).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) have[m[1]!] = m[2]!;
    }
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(line.slice((close > 0 ? close : name.length) + 1).trim().split(' ')[0]);
  }
  return sum;
}

/** A cheap scrape of the named metrics only. */
export async function scrape(op: Operator, names: string[]): Promise<string> {
  const u = new URL(op.metricsUrl);
  for (const n of names) u.searchParams.append('name', n);
  const res = await fetch(u, { signal: AbortSignal.timeout(5000) });
  return res.text();
}

/** What must not change: each Secret's type and data, by name. */
export type SecretSnapshot = Map<string, { type: string | undefined; data: Record<string, string> }>;

export async function snapshotSecrets(admin: KubeClient, ns: string, names?: string[]): Promise<SecretSnapshot> {
  const list = await admin.list<Secret>(core.secrets, ns);
  const out: SecretSnapshot = new Map();
  for (const s of list.items) {
    const n = s.metadata!.name!;
    if (names && !names.includes(n)) continue;
    out.set(n, { type: s.type, data: { ...(s.data ?? {}) } });
  }
  return out;
}

/** Secrets lost, blanked or changed between two snapshots (names of `before` only). */
export function secretDamage(before: SecretSnapshot, after: SecretSnapshot): string[] {
  const problems: string[] = [];
  for (const [name, b] of before) {
    const a = after.get(name);
    if (!a) problems.push(`${name}: lost`);
    else if (Object.keys(a.data).length === 0 && Object.keys(b.data).length > 0) problems.push(`${name}: blanked`);
    else if (a.type !== b.type || JSON.stringify(sortKeys(a.data)) !== JSON.stringify(sortKeys(b.data))) problems.push(`${name}: changed (keys ${Object.keys(b.data).sort().join(',')} → ${Object.keys(a.data).sort().join(',')})`);
  }
  return problems;
}

function sortKeys(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

// ---------------------------------------------------------------------------------------------
// Planted markers: a secret value must not appear, in any derivation, in what others can read

/** A value that no test writes twice: lower-case letters and digits, 24 characters. */
export function plantMarker(): string {
  return `mk${randomBytes(11).toString('hex')}`;
}

/** The forms a template can derive from the marker that are still recognisable. */
export function markerForms(marker: string): string[] {
  const forms = new Set<string>();
  const add = (s: string) => s.length >= 8 && forms.add(s.toLowerCase());
  // Any 10-character window covers substr / trunc / slicing of the value, in any case.
  for (let i = 0; i + 10 <= marker.length; i++) add(marker.slice(i, i + 10));
  const rev = [...marker].reverse().join('');
  for (let i = 0; i + 10 <= rev.length; i++) add(rev.slice(i, i + 10));
  for (const v of [marker, marker.toUpperCase()]) {
    add(Buffer.from(v).toString('base64').replace(/=+$/, ''));
    add(Buffer.from(v).toString('base64url'));
    add(Buffer.from(v).toString('hex'));
  }
  return [...forms];
}

/** Where a form of the marker shows up in `texts`, case-insensitively ([] when nowhere). */
export function findMarker(marker: string, texts: Record<string, string>): string[] {
  const forms = markerForms(marker);
  const hits: string[] = [];
  for (const [where, text] of Object.entries(texts)) {
    const lower = text.toLowerCase();
    const f = forms.find((x) => lower.includes(x));
    if (f) hits.push(`${where} contains ${JSON.stringify(f)}`);
  }
  return hits;
}

/** Status of every ExternalSecret and store, and every event, of a namespace, as text. */
export async function namespaceTexts(admin: KubeClient, ns: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const rt of [externalSecrets, secretStores]) {
    for (const o of (await admin.list<KubeObject & { status?: unknown }>(rt, ns)).items) out[`${rt.kind} ${o.metadata!.name} status`] = JSON.stringify(o.status ?? {});
  }
  for (const e of (await admin.list<CoreEvent>(core.events, ns)).items) out[`event ${e.metadata!.name}`] = `${e.reason} ${e.message}`;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Hostile endpoints on 127.0.0.1 (what a tenant may name as a store's server)

export interface HostileServer {
  url: string;
  /** Every request received: method, path and the Authorization header. */
  requests: Array<{ method: string; url: string; authorization?: string }>;
  close(): Promise<void>;
}

async function listen(handler: http.RequestListener): Promise<HostileServer & { server: http.Server }> {
  const requests: HostileServer['requests'] = [];
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const close = async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  onCleanup(close);
  return { url: `http://127.0.0.1:${port}`, requests, server, close };
}

/** Answers 200 with headers at once, then one byte of JSON every `everyMs` (never finishes on its own). */
export function slowDripServer(everyMs = 3000, maxMs = 180_000): Promise<HostileServer> {
  return listen((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const body = '{"data":{"data":{"k":"' + 'x'.repeat(10_000);
    let i = 0;
    const t0 = Date.now();
    const tick = setInterval(() => {
      if (res.destroyed || Date.now() - t0 > maxMs) {
        clearInterval(tick);
        res.destroy();
        return;
      }
      res.write(body[i++ % body.length]!);
    }, everyMs);
    req.socket.on('close', () => clearInterval(tick));
  });
}

/** Answers 200 with a JSON body of `totalBytes` (600 MB by default: past V8's string limit), fast. */
export function oversizeServer(totalBytes = 600 * 1024 * 1024): Promise<HostileServer> {
  const chunk = Buffer.alloc(1024 * 1024, 'a');
  return listen((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"data":{"data":{"k":"');
    let sent = 0;
    const pump = () => {
      while (sent < totalBytes && !res.destroyed) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      if (!res.destroyed) res.end('"}}}');
    };
    pump();
  });
}

/** Records requests and answers 401: a stand-in for "any URL the tenant names". */
export function captureServer(): Promise<HostileServer> {
  return listen((_req, res) => {
    res.writeHead(401, { 'content-type': 'application/json' }).end('{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Unauthorized","code":401}');
  });
}

/** The pid of a shared peer (from the peers' state directory), for SIGSTOP / SIGCONT. */
export function peerPid(name: PeerName): number {
  const pid = Number.parseInt(readFileSync(path.join(stateDir, 'pids', `${name}.pid`), 'utf8'), 10);
  if (!Number.isFinite(pid)) throw new Error(`no pid recorded for ${name}`);
  return pid;
}
