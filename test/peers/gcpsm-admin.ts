// Seeds the gcpsm emulator for tests and the demo, with Google's client library as a user would:
// create secrets (labels, annotations, regional), add, disable and destroy versions, delete.
// Authenticates with the peers' service-account key through the emulator's /token endpoint.
import { readFileSync } from 'node:fs';
import { v1 } from '@google-cloud/secret-manager';
import { grpc } from 'google-gax';
import { callLimits } from '../../src/providers/common/http.ts';
import { endpointsFromEnv, parseServiceAccountKey, serviceAccountKeySource } from '../../src/providers/gcp/credentials.ts';
import { GCPSM_PROJECT, gcpsmKeyFile, ports, peersEnv } from './index.ts';

export interface GcpsmAdmin {
  project: string;
  /** Creates the secret (if absent) and adds a version with `value`; returns the version number. */
  put(id: string, value: string | Uint8Array, o?: { labels?: Record<string, string>; annotations?: Record<string, string>; location?: string }): Promise<number>;
  setVersionState(id: string, version: number, state: 'disable' | 'enable' | 'destroy', location?: string): Promise<void>;
  remove(id: string, location?: string): Promise<void>;
  close(): Promise<void>;
}

export function gcpsmAdmin(): GcpsmAdmin {
  const env = peersEnv();
  const key = parseServiceAccountKey(readFileSync(gcpsmKeyFile(), 'utf8'), 'GCPSM_SA_KEY_FILE');
  const tokens = serviceAccountKeySource(key, endpointsFromEnv(env), { limits: callLimits(undefined) });
  const client = new v1.SecretManagerServiceClient({ apiEndpoint: '127.0.0.1', port: ports.gcpsm, sslCreds: grpc.credentials.createInsecure(), universeDomain: 'googleapis.com' } as ConstructorParameters<typeof v1.SecretManagerServiceClient>[0]);
  let lastToken = '';
  const opts = async () => {
    lastToken = await tokens.token();
    return { otherArgs: { headers: { authorization: `Bearer ${lastToken}` } } };
  };
  // A restarted emulator has forgotten the tokens it issued: drop ours and retry once.
  const withRetry = <T>(fn: () => Promise<T>) => fn().catch((err: { code?: number }) => {
    if (err.code !== 16) throw err;
    tokens.invalidate(lastToken);
    return fn();
  });
  const parent = (location?: string) => (location ? `projects/${GCPSM_PROJECT}/locations/${location}` : `projects/${GCPSM_PROJECT}`);
  return {
    project: GCPSM_PROJECT,
    put: (id, value, o = {}) => withRetry(async () => {
      try {
        await client.createSecret({ parent: parent(o.location), secretId: id, secret: { labels: o.labels ?? {}, annotations: o.annotations ?? {} } }, await opts());
      } catch (err) {
        if ((err as { code?: number }).code !== 6) throw err; // ALREADY_EXISTS
        if (o.labels || o.annotations) {
          await client.updateSecret({ secret: { name: `${parent(o.location)}/secrets/${id}`, labels: o.labels ?? {}, annotations: o.annotations ?? {} }, updateMask: { paths: ['labels', 'annotations'] } }, await opts());
        }
      }
      const [v] = await client.addSecretVersion({ parent: `${parent(o.location)}/secrets/${id}`, payload: { data: typeof value === 'string' ? Buffer.from(value) : value } }, await opts());
      return Number(v.name!.slice(v.name!.lastIndexOf('/') + 1));
    }),
    setVersionState: (id, version, state, location) => withRetry(async () => {
      const name = `${parent(location)}/secrets/${id}/versions/${version}`;
      if (state === 'disable') await client.disableSecretVersion({ name }, await opts());
      else if (state === 'enable') await client.enableSecretVersion({ name }, await opts());
      else await client.destroySecretVersion({ name }, await opts());
    }),
    remove: (id, location) => withRetry(async () => {
      await client.deleteSecret({ name: `${parent(location)}/secrets/${id}` }, await opts()).catch((err: { code?: number }) => {
        if (err.code !== 5) throw err;
      });
    }),
    close: () => client.close(),
  };
}
