// spec.provider.gcpsm: Google Cloud Secret Manager, global or regional (location) secrets.
// Google's client library loads on first use, so an operator without GCP stores never pays for it.
import { ProviderError } from '../provider.ts';
import type { Provider, ProviderClient, ProviderContext } from '../provider.ts';
import { callLimits, MAX_RESPONSE_BYTES } from '../common/http.ts';
import { schemaProblems, type Validated } from '../common/config.ts';
import type * as api from '../../api/types.generated.ts';
import { readFile } from 'node:fs/promises';
import {
  CachedTokenSource, endpointsFromEnv, exchangeSubjectToken, impersonate, metadataServerSource, metadataValue,
  parseServiceAccountKey, serviceAccountKeySource, type AccessTokenSource, type GoogleEndpoints, type TokenTransport,
} from './credentials.ts';
import { checkLocation, checkProject } from './names.ts';
import type { SecretManagerStub } from './client.ts';

export type GCPSMProvider = Validated<api.GCPSMProvider>;

const field = 'spec.provider.gcpsm';
/** GKE's annotation naming the Google service account a Kubernetes ServiceAccount acts as. */
export const GKE_SA_ANNOTATION = 'iam.gke.io/gcp-service-account';

/** Checks of spec.provider.gcpsm: the schema's, then what the schema cannot say. */
export function validateGcpConfig(config: unknown): string[] {
  const problems = schemaProblems('gcpsm', config);
  if (typeof config !== 'object' || config === null) return problems;
  const c = config as GCPSMProvider;
  const sel = c.auth?.secretRef?.secretAccessKeySecretRef;
  if (c.auth?.secretRef && (!sel?.name || !sel.key)) problems.push(`${field}.auth.secretRef.secretAccessKeySecretRef: name and key are required`);
  const wif = c.auth?.workloadIdentityFederation;
  if (wif) {
    if (wif.credConfig || wif.awsSecurityCredentials) {
      problems.push(`${field}.auth.workloadIdentityFederation: credConfig and awsSecurityCredentials are not supported yet by tessera (serviceAccountRef with audience is)`);
    } else if (!wif.serviceAccountRef) {
      problems.push(`${field}.auth.workloadIdentityFederation.serviceAccountRef: is required`);
    } else if (!wif.audience) {
      problems.push(`${field}.auth.workloadIdentityFederation.audience: is required with serviceAccountRef`);
    }
  }
  for (const [name, v] of [['projectID', c.projectID], ['auth.workloadIdentity.clusterProjectID', c.auth?.workloadIdentity?.clusterProjectID]] as const) {
    if (v) {
      try {
        checkProject(v, `${field}.${name}`);
      } catch (err) {
        problems.push((err as Error).message);
      }
    }
  }
  if (c.location) {
    try {
      checkLocation(c.location, `${field}.location`);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  return problems;
}

/**
 * Where Secret Manager is: the operator's TESSERA_GCPSM_ENDPOINT (tests, private endpoints;
 * http:// means gRPC without TLS, for an emulator), else Google's global endpoint, or the regional
 * one for a location (secretmanager.LOCATION.rep.googleapis.com, as ESO).
 */
export function secretManagerEndpoint(env: Record<string, string | undefined>, location: string | undefined): { host: string; port: number; plaintext: boolean } {
  const override = env.TESSERA_GCPSM_ENDPOINT?.trim();
  if (override) {
    const withScheme = /^[a-z]+:\/\//.test(override) ? override : `https://${override}`;
    let u: URL;
    try {
      u = new URL(withScheme);
    } catch {
      throw new ProviderError('InvalidRequest', `TESSERA_GCPSM_ENDPOINT: ${JSON.stringify(override.slice(0, 100))} is not host:port or a URL`);
    }
    const plaintext = u.protocol === 'http:';
    return { host: u.hostname, port: u.port ? Number(u.port) : plaintext ? 80 : 443, plaintext };
  }
  return { host: location ? `secretmanager.${location}.rep.googleapis.com` : 'secretmanager.googleapis.com', port: 443, plaintext: false };
}

/** The access-token source for the store's auth, in ESO's order of precedence. */
async function storeTokenSource(config: GCPSMProvider, ctx: ProviderContext, endpoints: GoogleEndpoints, transport: TokenTransport, env: Record<string, string | undefined>, project: string): Promise<AccessTokenSource> {
  const auth = config.auth;
  if (auth?.secretRef) {
    const sel = auth.secretRef.secretAccessKeySecretRef!;
    const json = await ctx.readSecretKey(sel);
    return serviceAccountKeySource(parseServiceAccountKey(json, `${field}.auth.secretRef.secretAccessKeySecretRef`), endpoints, transport);
  }
  const now = transport.now ?? Date.now;
  if (auth?.workloadIdentity) {
    const wi = auth.workloadIdentity;
    const sa = wi.serviceAccountRef;
    const clusterProject = wi.clusterProjectID || project;
    const clusterLocation = wi.clusterLocation || (await metadataValue('instance/attributes/cluster-location', endpoints, transport));
    const clusterName = wi.clusterName || (await metadataValue('instance/attributes/cluster-name', endpoints, transport));
    const pool = `${clusterProject}.svc.id.goog`;
    const idProvider = `https://container.googleapis.com/v1/projects/${clusterProject}/locations/${clusterLocation}/clusters/${clusterName}`;
    return new CachedTokenSource(async (signal) => {
      const saToken = await countedTokenRequest(ctx, { name: sa.name, namespace: sa.namespace, audiences: [pool, ...(sa.audiences ?? [])] });
      const bound = await exchangeSubjectToken('secureToken', saToken, `identitynamespace:${pool}:${idProvider}`, endpoints, transport, signal);
      const annotations = ctx.readServiceAccountAnnotations ? await ctx.readServiceAccountAnnotations({ name: sa.name, namespace: sa.namespace }) : {};
      const gsa = annotations[GKE_SA_ANNOTATION];
      return gsa ? impersonate(gsa, bound.token, endpoints, transport, signal) : bound;
    }, now);
  }
  if (auth?.workloadIdentityFederation) {
    const wif = auth.workloadIdentityFederation;
    const sa = wif.serviceAccountRef!;
    const audience = wif.audience!;
    return new CachedTokenSource(async (signal) => {
      const saToken = await countedTokenRequest(ctx, { name: sa.name, namespace: sa.namespace, audiences: sa.audiences?.length ? sa.audiences : [audience] });
      const federated = await exchangeSubjectToken('sts', saToken, audience, endpoints, transport, signal);
      let gsa = wif.gcpServiceAccountEmail;
      if (!gsa && ctx.readServiceAccountAnnotations) gsa = (await ctx.readServiceAccountAnnotations({ name: sa.name, namespace: sa.namespace }))[GKE_SA_ANNOTATION];
      return gsa ? impersonate(gsa, federated.token, endpoints, transport, signal) : federated;
    }, now);
  }
  // The controller's own credentials: Google's default chain.
  const file = env.GOOGLE_APPLICATION_CREDENTIALS?.trim();
  if (file) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new ProviderError('BadCredentials', `GOOGLE_APPLICATION_CREDENTIALS: cannot read the operator's key file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    return serviceAccountKeySource(parseServiceAccountKey(text, 'GOOGLE_APPLICATION_CREDENTIALS'), endpoints, transport);
  }
  return metadataServerSource(endpoints, transport);

  async function countedTokenRequest(c: ProviderContext, ref: { name: string; namespace?: string | undefined; audiences: string[] }): Promise<string> {
    // ESO counts the TokenRequest as a provider call (GenerateServiceAccountToken).
    try {
      const t = await c.createServiceAccountToken(ref);
      c.onApiCall?.('GenerateServiceAccountToken', { provider: 'GCP/SecretManager', status: 'success' });
      return t;
    } catch (err) {
      c.onApiCall?.('GenerateServiceAccountToken', { provider: 'GCP/SecretManager', status: 'error' });
      throw err;
    }
  }
}

async function newGcpClient(config: GCPSMProvider, ctx: ProviderContext): Promise<ProviderClient> {
  const problems = validateGcpConfig(config);
  if (problems.length > 0) throw new ProviderError('InvalidRequest', problems.join('; '));
  const env = ctx.env ?? process.env;
  const limits = callLimits(ctx.callDeadlineMs);
  const transport: TokenTransport = { limits, onApiCall: ctx.onApiCall };
  const endpoints = endpointsFromEnv(env);

  // ESO: projectID, else the workload identity's clusterProjectID, else (without a key) the
  // metadata server's project.
  let project = config.projectID || config.auth?.workloadIdentity?.clusterProjectID;
  if (!project) {
    if (config.auth?.secretRef) throw new ProviderError('InvalidRequest', `${field}.projectID: is required with auth.secretRef`);
    project = await metadataValue('project/project-id', endpoints, transport);
    checkProject(project, `${field}.projectID (from the metadata server)`);
  }
  const tokens = await storeTokenSource(config, ctx, endpoints, transport, env, project);

  // grpc-js as google-gax re-exports it: the very instance the library's channel is built with.
  const [{ v1 }, { grpc }, { SecretManagerReader }] = await Promise.all([import('@google-cloud/secret-manager'), import('google-gax'), import('./client.ts')]);
  const endpoint = secretManagerEndpoint(env, config.location || undefined);
  const sdk = new v1.SecretManagerServiceClient({
    apiEndpoint: endpoint.host,
    port: endpoint.port,
    // Our own channel credentials: the library then adds no credentials of its own (and never
    // looks for them on the metadata server); the token goes on each call.
    sslCreds: endpoint.plaintext ? grpc.credentials.createInsecure() : grpc.credentials.createSsl(),
    universeDomain: 'googleapis.com',
    'grpc.max_receive_message_length': MAX_RESPONSE_BYTES,
  } as ConstructorParameters<typeof v1.SecretManagerServiceClient>[0]);
  await sdk.initialize();
  const stub = (await (sdk as unknown as { secretManagerServiceStub: Promise<SecretManagerStub> }).secretManagerServiceStub);
  return new SecretManagerReader(stub, {
    scope: { project, location: config.location || undefined },
    tokens,
    limits,
    newMetadata: () => new grpc.Metadata(),
    latestOrFetch: config.secretVersionSelectionPolicy === 'LatestOrFetch',
    onApiCall: ctx.onApiCall,
    onClose: () => sdk.close(),
  });
}

export const gcpProvider: Provider<GCPSMProvider> = {
  name: 'gcpsm',
  validateConfig: (config) => validateGcpConfig(config),
  // status.capabilities as ESO 2.9 reports it for gcpsm (Tessera itself only reads).
  capabilities: () => 'ReadWrite',
  newClient: newGcpClient,
  controllerIdentity: (config) => gcpControllerIdentity(config),
};

/** Without auth, the store reads with the controller's own Google identity (default chain). */
export function gcpControllerIdentity(config: GCPSMProvider): { field: string; uses: string } | undefined {
  const a = config?.auth;
  if (a?.secretRef || a?.workloadIdentity || a?.workloadIdentityFederation) return undefined;
  return { field: `${field}.auth`, uses: "the controller's own Google credentials (auth is not set, so Google's default credential chain of the controller applies: GOOGLE_APPLICATION_CREDENTIALS or the metadata server)" };
}
