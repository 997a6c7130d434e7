// The manager composes what runs in one controller process, as controller-runtime's Manager:
// health and metrics servers and informers run on every replica; leader-only runnables (the
// controllers' workers) start only once this replica holds the Lease. Shutdown runs in reverse:
// stop taking work and drain the workers, release the Lease, stop the watches, flush events.
import http from 'node:http';
import os from 'node:os';
import { register } from 'prom-client';
import { writeAllMetrics } from '../metrics/registry.ts';
import type { Logger } from 'pino';
import type { KubeClient } from './client.ts';
import type { Informer } from './informer.ts';
import type { KubeObject } from './types.ts';
import { rfc3339 } from './types.ts';
import { diagnoseApiFailure, FailureLogLimiter, printableServer } from './diagnose.ts';
import { LeaderElector } from './leaderelection.ts';
import type { EventRecorder } from './events.ts';

export interface Runnable {
  name: string;
  /** Leader-only runnables wait for the Lease; the others start at once. */
  leaderOnly: boolean;
  start(): void | Promise<void>;
  stop(): Promise<void>;
}

export interface ManagerOptions {
  client: KubeClient;
  logger: Logger;
  metricsAddr?: string | undefined; // host:port, "0" disables
  healthAddr?: string | undefined;
  leaderElection?: { enabled: boolean; namespace: string; name: string; identity?: string; leaseDurationMs?: number; renewDeadlineMs?: number; retryPeriodMs?: number };
  /** Called when leadership is lost after it was held; the default exits the process. */
  onLostLeadership?: () => void;
  events?: EventRecorder;
  /** A failing informer logs its first failure, then at most once per this interval (ms). */
  failureLogIntervalMs?: number;
}

/** What the readiness text of an informer needs to know (an Informer, or a test's stand-in). */
export interface InformerHealth {
  readonly healthy: boolean;
  readonly synced: boolean;
  readonly failure: { error: Error; op: 'list' | 'watch'; since: number } | undefined;
  readonly lastError: { error: Error; at: number } | undefined;
  readonly resourceName: string;
  readonly scope: string;
  readonly server: string;
}

/**
 * Why an informer is not ready, or undefined when it is: the failing request's status and since
 * when ("403 Forbidden on list since 2026-11-30T12:01:03Z"), else "not synced".
 */
export function informerNotReadyReason(inf: InformerHealth): string | undefined {
  if (inf.healthy) return undefined;
  const f = inf.failure;
  if (f) {
    const d = diagnoseApiFailure(f.error, { resource: inf.resourceName, scope: inf.scope, verb: f.op, server: inf.server });
    return `${d.summary} on ${f.op} since ${rfc3339(new Date(f.since))}${inf.synced ? '' : ', not synced'}`;
  }
  if (!inf.synced) return 'not synced';
  return `watch failing: ${inf.lastError?.error.message ?? 'unknown'}`;
}

export class Manager {
  private readonly o: ManagerOptions;
  private readonly log: Logger;
  private readonly informers: Informer<KubeObject>[] = [];
  private readonly runnables: Runnable[] = [];
  private readonly readyChecks = new Map<string, () => string | undefined>();
  private readonly servers: http.Server[] = [];
  private elector: LeaderElector | undefined;
  private leaderStarted = false;
  private readonly failureLogs: FailureLogLimiter;
  private stopping = false;
  readonly identity: string;
  /** Addresses the servers actually bound (useful with port 0). */
  readonly bound: { metrics?: string; health?: string } = {};

  constructor(o: ManagerOptions) {
    this.o = o;
    this.log = o.logger;
    this.failureLogs = new FailureLogLimiter(o.failureLogIntervalMs ?? 60_000);
    this.identity = o.leaderElection?.identity ?? `${os.hostname()}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  }

  addInformer<T extends KubeObject>(inf: Informer<T>): void {
    this.informers.push(inf as unknown as Informer<KubeObject>);
    this.addReadyCheck(`informer ${inf.description}`, () => informerNotReadyReason(inf));
    inf.addLifecycleListener((e) => {
      if (e.type === 'watch-error') this.logInformerFailure(inf as unknown as Informer<KubeObject>, e.error, e.op, e.retryInMs);
      else if ((e.type === 'listed' || e.type === 'watching') && this.failureLogs.reset(inf.description)) {
        this.log.info({ informer: inf.description, resource: inf.resourceName, scope: inf.scope }, `${inf.description}: ${e.type === 'listed' ? 'list' : 'watch'} recovered`);
      }
    });
  }

  /**
   * One log line per failure streak and interval, at error level when someone must act (RBAC,
   * credentials, connectivity), naming what failed, the cause chain and what to fix.
   */
  private logInformerFailure(inf: Informer<KubeObject>, error: Error, verb: 'list' | 'watch', retryInMs: number): void {
    const server = printableServer(inf.server);
    const d = diagnoseApiFailure(error, { resource: inf.resourceName, scope: inf.scope, verb, server: inf.server });
    const fields = {
      informer: inf.description,
      resource: inf.resourceName,
      scope: inf.scope,
      verb,
      server,
      ...(d.code !== undefined ? { status: d.code } : {}),
      ...(d.user ? { user: d.user } : {}),
      error: d.causes.join(': '),
      ...(d.fix ? { fix: d.fix } : {}),
      retryInMs: Math.round(retryInMs),
    };
    const msg = `cannot ${verb} ${inf.resourceName} (${inf.scope}): ${d.summary}${d.fix ? `: ${d.fix}` : ''}`;
    if (d.level === 'debug') return void this.log.debug(fields, msg);
    const admitted = this.failureLogs.admit(inf.description);
    if (!admitted.log) return;
    const f = inf.failure;
    this.log[d.level]({ ...fields, failures: f?.count ?? 1, failingSince: rfc3339(new Date(f?.since ?? Date.now())), suppressed: admitted.suppressed }, msg);
  }

  add(r: Runnable): void {
    this.runnables.push(r);
  }

  addReadyCheck(name: string, check: () => string | undefined): void {
    this.readyChecks.set(name, check);
  }

  get isLeader(): boolean {
    return this.elector ? this.elector.isLeader : this.leaderStarted;
  }

  async start(): Promise<void> {
    await this.startServers();
    // Before the caches sync (which may never happen, e.g. without RBAC): where to ask why.
    this.log.info({ ...this.bound }, 'serving health and metrics');
    for (const inf of this.informers) inf.start();
    for (const r of this.runnables) if (!r.leaderOnly) await r.start();
    // Workers start only after the caches are filled, so the first reconciles see a full view.
    await Promise.all(this.informers.map((i) => i.waitForSync()));
    this.log.info({ informers: this.informers.length }, 'caches synced');
    const le = this.o.leaderElection;
    if (le?.enabled) {
      this.elector = new LeaderElector(this.o.client, {
        namespace: le.namespace,
        name: le.name,
        identity: this.identity,
        ...(le.leaseDurationMs !== undefined ? { leaseDurationMs: le.leaseDurationMs } : {}),
        ...(le.renewDeadlineMs !== undefined ? { renewDeadlineMs: le.renewDeadlineMs } : {}),
        ...(le.retryPeriodMs !== undefined ? { retryPeriodMs: le.retryPeriodMs } : {}),
        onStartedLeading: () => void this.startLeaderOnly(),
        onStoppedLeading: () => {
          if (this.stopping) return;
          this.log.error('leader lease lost; stopping');
          (this.o.onLostLeadership ?? (() => process.exit(1)))();
        },
        onNewLeader: (id) => this.log.info({ leader: id, self: id === this.identity }, 'leader observed'),
        log: (msg, f) => this.log.info(f ?? {}, msg),
      });
      this.elector.start();
    } else {
      await this.startLeaderOnly();
    }
  }

  private async startLeaderOnly(): Promise<void> {
    if (this.leaderStarted || this.stopping) return;
    this.leaderStarted = true;
    for (const r of this.runnables) if (r.leaderOnly) await r.start();
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.log.info('shutting down');
    for (const r of [...this.runnables].reverse()) {
      try {
        await r.stop();
      } catch (e) {
        this.log.warn({ runnable: r.name, err: (e as Error).message }, 'stop failed');
      }
    }
    await this.elector?.stop();
    await Promise.all(this.informers.map((i) => i.stop()));
    await this.o.events?.shutdown();
    await Promise.all(this.servers.map((s) => new Promise((r) => s.close(r))));
    this.o.client.close();
    this.log.info('stopped');
  }

  private readiness(): { ok: boolean; failures: Record<string, string> } {
    const failures: Record<string, string> = {};
    for (const [name, check] of this.readyChecks) {
      const msg = check();
      if (msg) failures[name] = msg;
    }
    return { ok: Object.keys(failures).length === 0, failures };
  }

  private async startServers(): Promise<void> {
    const health = (req: http.IncomingMessage, res: http.ServerResponse) => {
      if (req.url === '/healthz' || req.url === '/livez') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      } else if (req.url?.startsWith('/readyz')) {
        const r = this.readiness();
        const body = r.ok ? 'ok' : Object.entries(r.failures).map(([k, v]) => `[-]${k}: ${v}`).join('\n');
        res.writeHead(r.ok ? 200 : 503, { 'content-type': 'text/plain' }).end(body);
      } else {
        res.writeHead(404).end();
      }
    };
    const metrics = async (req: http.IncomingMessage, res: http.ServerResponse) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== '/metrics') return void res.writeHead(404).end();
      try {
        // `?name=a&name=b` serves only those metrics: a cheap scrape for frequent sampling (the
        // per-ExternalSecret gauges make a full scrape large at scale).
        const names = url.searchParams.getAll('name');
        if (names.length) {
          const body = (await Promise.all(names.filter((n) => register.getSingleMetric(n)).map((n) => register.getSingleMetricAsString(n)))).join('\n') + '\n';
          res.writeHead(200, { 'content-type': register.contentType }).end(body);
        } else {
          res.writeHead(200, { 'content-type': register.contentType });
          await writeAllMetrics(res);
          res.end();
        }
      } catch (e) {
        if (res.headersSent) res.destroy();
        else res.writeHead(500).end((e as Error).message);
      }
    };
    if (this.o.healthAddr && this.o.healthAddr !== '0') this.bound.health = await this.listen(this.o.healthAddr, health);
    if (this.o.metricsAddr && this.o.metricsAddr !== '0') {
      this.bound.metrics = await this.listen(this.o.metricsAddr, (req, res) => void metrics(req, res));
    }
  }

  private listen(addr: string, handler: http.RequestListener): Promise<string> {
    const { host, port } = parseAddr(addr);
    const server = http.createServer(handler);
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        const a = server.address();
        resolve(typeof a === 'object' && a ? `${a.address}:${a.port}` : String(a));
      });
    });
  }
}

/** ":8080", "127.0.0.1:8080" or "8080" → host and port (all interfaces when the host is empty). */
export function parseAddr(addr: string): { host: string | undefined; port: number } {
  const i = addr.lastIndexOf(':');
  const host = i < 0 ? undefined : addr.slice(0, i).replace(/^\[|\]$/g, '') || undefined;
  const port = Number.parseInt(i < 0 ? addr : addr.slice(i + 1), 10);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid address "${addr}": expected [host]:port`);
  return { host, port };
}
