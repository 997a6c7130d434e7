// A real Prometheus as a test peer, for the tests that check Tessera's metrics the way users read
// them: scraped, stored and queried with PromQL (ESO's Grafana dashboard, test/integration/
// dashboard.test.ts). Debian's package, fetched and unpacked once into the peers cache by
// test/peers/build.sh (no root, nothing installed).
//
// Unlike the shared peers, it is not started by `npm run peers:up`: what it scrapes is the
// operator a test starts, on a port chosen at random, so each test starts its own Prometheus with
// that target, a temporary data directory and a free port, and stops it when done. Starting takes
// about a second. A missing binary fails the test (never a skip).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './index.ts';
import { waitFor } from './operator.ts';

const execFileP = promisify(execFile);
const buildScript = path.join(repoRoot, 'test/peers/build.sh');

/** Fetches (once) and returns the path of the prometheus binary; throws with build.sh's words. */
export async function prometheusBinary(): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn('bash', [buildScript, 'prometheus'], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`test/peers/build.sh prometheus exited with ${code}: the Prometheus peer is missing (see its log above)`))));
  });
  const { stdout } = await execFileP('bash', [buildScript, 'paths']);
  const line = stdout.split('\n').find((l) => l.startsWith('PROMETHEUS_BIN='));
  if (!line) throw new Error('test/peers/build.sh paths names no PROMETHEUS_BIN');
  return line.slice('PROMETHEUS_BIN='.length);
}

/** A free TCP port on 127.0.0.1 (the kernel's choice; released just before Prometheus binds it). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface ScrapeTarget {
  /** host:port of a /metrics endpoint. */
  address: string;
  /** Labels added to every series of the target (e.g. the `service` a ServiceMonitor adds). */
  labels: Record<string, string>;
}

/** One element of an instant query's result vector (or of a series list). */
export interface Sample {
  metric: Record<string, string>;
  value?: [number, string];
}

export interface Prometheus {
  url: string;
  logs: string[];
  /** Instant query through the HTTP API (/api/v1/query). Throws on a PromQL error. */
  query(expr: string): Promise<Sample[]>;
  /** Series matching the selector within the last `lookbackS` seconds (/api/v1/series). */
  series(match: string, lookbackS?: number): Promise<Array<Record<string, string>>>;
  /** Values of a label over the series matching the selector (/api/v1/label/<name>/values). */
  labelValues(label: string, match: string): Promise<string[]>;
  /** Stops the process and removes its data directory. */
  stop(): Promise<void>;
}

interface ApiAnswer<T> {
  status: 'success' | 'error';
  data: T;
  errorType?: string;
  error?: string;
}

/**
 * Starts Prometheus on a free port of 127.0.0.1, scraping `targets` every `scrapeIntervalS`
 * seconds into a temporary data directory, and waits until it is ready.
 */
export async function startPrometheus(targets: ScrapeTarget[], scrapeIntervalS = 1): Promise<Prometheus> {
  const bin = await prometheusBinary();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-prometheus-'));
  const config = {
    global: { scrape_interval: `${scrapeIntervalS}s`, evaluation_interval: `${scrapeIntervalS}s`, scrape_timeout: `${scrapeIntervalS}s` },
    scrape_configs: [{ job_name: 'tessera', static_configs: targets.map((t) => ({ targets: [t.address], labels: t.labels })) }],
  };
  // JSON is YAML: no YAML writer needed.
  writeFileSync(path.join(dir, 'prometheus.yml'), JSON.stringify(config, null, 2));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logs: string[] = [];
  const child: ChildProcess = spawn(
    bin,
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // Debian's build looks for its web assets under /usr/share; the API needs none of them.
      `--web.console.templates=${dir}`,
      `--web.console.libraries=${dir}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const collect = (d: string) => logs.push(...d.split('\n').filter(Boolean));
  child.stdout!.setEncoding('utf8').on('data', collect);
  child.stderr!.setEncoding('utf8').on('data', collect);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const running = () => child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    if (running()) {
      child.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 10_000))]);
      if (!done && running()) child.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor('Prometheus to be ready', async () => {
      if (!running()) throw new Error(`prometheus exited with ${child.exitCode ?? child.signalCode}:\n${logs.slice(-10).join('\n')}`);
      const r = await fetch(`${url}/-/ready`).catch(() => undefined);
      return r?.ok;
    }, 30_000);
  } catch (e) {
    await stop();
    throw e;
  }
  const api = async <T>(pathAndQuery: string, params: Record<string, string>): Promise<T> => {
    const res = await fetch(`${url}${pathAndQuery}?${new URLSearchParams(params)}`);
    const body = (await res.json()) as ApiAnswer<T>;
    if (body.status !== 'success') throw new Error(`Prometheus ${pathAndQuery} ${JSON.stringify(params)}: ${body.errorType}: ${body.error}`);
    return body.data;
  };
  return {
    url,
    logs,
    query: async (expr) => (await api<{ resultType: string; result: Sample[] }>('/api/v1/query', { query: expr })).result,
    series: (match, lookbackS = 300) => api('/api/v1/series', { 'match[]': match, start: String(Date.now() / 1000 - lookbackS) }),
    labelValues: (label, match) => api(`/api/v1/label/${encodeURIComponent(label)}/values`, { 'match[]': match }),
    stop,
  };
}
