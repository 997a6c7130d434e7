// The kube-apiserver's own /metrics, read with the admin client certificate of the local peers.
import https from 'node:https';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { stateDir } from '../../test/peers/index.ts';
import { parseProm, sumBy } from './prom.ts';

export async function apiserverMetrics(url: string): Promise<string> {
  const dir = path.join(stateDir, 'pki');
  const opts: https.RequestOptions = { ca: readFileSync(path.join(dir, 'ca.crt')), cert: readFileSync(path.join(dir, 'admin.crt')), key: readFileSync(path.join(dir, 'admin.key')) };
  return new Promise((resolve, reject) => {
    https
      .get(`${url.replace(/\/$/, '')}/metrics`, opts, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(body));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/** apiserver_request_total summed by "VERB resource[/subresource]" (watches and proxies included). */
export async function requestsByVerbResource(url: string): Promise<Record<string, number>> {
  const samples = parseProm(await apiserverMetrics(url), (n) => n === 'apiserver_request_total');
  const out: Record<string, number> = {};
  for (const s of samples) {
    const r = s.labels.subresource ? `${s.labels.resource}/${s.labels.subresource}` : (s.labels.resource ?? '');
    const k = `${s.labels.verb} ${r}`;
    out[k] = (out[k] ?? 0) + s.value;
  }
  return out;
}
export { sumBy };
