// ESO's controller flags that `tessera run` accepts without acting on them. ESO's Helm chart passes
// several on every install (`--zap-time-encoding=epoch`, `--loglevel`, `--metrics-addr`, …) and
// values files add more through extraArgs; refusing an unknown one with exit 2 would make a
// Deployment carried over from ESO crash-loop. So each is parsed with its ESO type (a value flag
// must consume its value, or the next flag would be read as one) and, when given, logged once as a
// warning that says why it has no effect here. A value that would silently change what Tessera
// writes, or weaken what the operator asked to secure, is refused instead: the flag is named and the
// reason given. ESO flags Tessera implements are aliases in runFlags (src/cli/run.ts).
// docs/flags-eso.md tabulates all of them; test/unit/cli/eso-flags.test.ts keeps the two in step.
import { type FlagSpec, type FlagValues, UsageError } from './flags.ts';
import { logLevels } from '../log.ts';

export interface EsoCompatibilityFlag extends FlagSpec {
  /** Why the flag changes nothing here: the warning logged when it is given. */
  noEffect: string;
  /** For a value Tessera cannot honour without silently doing something else: why it is refused. */
  refuse?: (value: string | number | boolean) => string | undefined;
}

const isTrue = (v: string | number | boolean) => v === true;
const refuseWhenTrue = (reason: string) => (v: string | number | boolean) => (isTrue(v) ? reason : undefined);
const caches = 'Tessera always caches exactly the Secrets it manages (a label-selected watch) and reads other Secrets and ConfigMaps on demand';
const vaultTokens = 'Tessera always reuses Vault login tokens for two thirds of their lease (src/providers/vault/tokens.ts)';
const notYet = (what: string) => `${what} are not reconciled by this controller`;

export const esoCompatibilityFlags: EsoCompatibilityFlag[] = [
  {
    name: 'metrics-auth',
    type: 'boolean',
    help: 'ESO: authenticate and authorize /metrics requests.',
    noEffect: '/metrics is served without authentication (its default in ESO too)',
    refuse: refuseWhenTrue('Tessera cannot authenticate /metrics requests; restrict the metrics port with a NetworkPolicy or put kube-rbac-proxy in front of it'),
  },
  {
    name: 'metrics-secure',
    type: 'boolean',
    help: 'ESO: serve /metrics over HTTPS.',
    noEffect: '/metrics is served over plain HTTP (its default in ESO too)',
    refuse: refuseWhenTrue('Tessera serves /metrics over plain HTTP only; terminate TLS in a sidecar or service mesh instead'),
  },
  { name: 'metrics-cert-dir', type: 'string', help: 'ESO: TLS certificate directory of /metrics.', noEffect: 'only used with --metrics-secure, which Tessera does not implement' },
  { name: 'metrics-cert-name', type: 'string', help: 'ESO: TLS certificate file name of /metrics.', noEffect: 'only used with --metrics-secure, which Tessera does not implement' },
  { name: 'metrics-key-name', type: 'string', help: 'ESO: TLS key file name of /metrics.', noEffect: 'only used with --metrics-secure, which Tessera does not implement' },
  {
    name: 'zap-time-encoding',
    type: 'string',
    help: "ESO: zap's time encoding.",
    noEffect: 'Tessera logs with pino; the "time" field of every line is ISO 8601 (UTC)',
  },
  { name: 'enable-cluster-store-reconciler', type: 'boolean', help: 'ESO: reconcile ClusterSecretStores.', noEffect: 'ClusterSecretStores are always reconciled' },
  { name: 'enable-secret-store-reconciler', type: 'boolean', help: 'ESO: reconcile SecretStores.', noEffect: 'SecretStores are always reconciled' },
  { name: 'enable-cluster-external-secret-reconciler', type: 'boolean', help: 'ESO: reconcile ClusterExternalSecrets.', noEffect: notYet('ClusterExternalSecrets') },
  { name: 'enable-cluster-push-secret-reconciler', type: 'boolean', help: 'ESO: reconcile ClusterPushSecrets.', noEffect: notYet('ClusterPushSecrets') },
  { name: 'enable-push-secret-reconciler', type: 'boolean', help: 'ESO: reconcile PushSecrets.', noEffect: notYet('PushSecrets') },
  { name: 'enable-secrets-caching', type: 'boolean', help: 'ESO: cache every Secret of the cluster.', noEffect: caches },
  { name: 'enable-configmaps-caching', type: 'boolean', help: 'ESO: cache every ConfigMap of the cluster.', noEffect: caches },
  { name: 'enable-managed-secrets-caching', type: 'boolean', help: 'ESO: cache managed Secrets.', noEffect: caches },
  { name: 'enable-secret-api-read-on-cache-mismatch', type: 'boolean', help: 'ESO: read a Secret from the API when its caches disagree.', noEffect: `${caches}, so there is no second cache to disagree with` },
  { name: 'enable-flood-gate', type: 'boolean', help: 'ESO: reconcile ExternalSecrets only while their store is not known to be unhealthy.', noEffect: 'an ExternalSecret whose store is not Ready always waits for it' },
  { name: 'enable-generator-state', type: 'boolean', help: 'ESO: manage GeneratorState objects.', noEffect: notYet('GeneratorStates') },
  { name: 'generator-gc-grace-period', type: 'duration', help: 'ESO: grace period before generated values are cleaned up.', noEffect: notYet('GeneratorStates') },
  { name: 'enable-extended-metric-labels', type: 'boolean', help: 'ESO: recommended Kubernetes labels as metric labels.', noEffect: "metric labels are fixed (README's metric table)" },
  { name: 'enable-http2', type: 'boolean', help: 'ESO: HTTP/2 on the metrics server.', noEffect: '/metrics, /healthz and /readyz are served over HTTP/1.1' },
  {
    name: 'template-left-delimiter',
    type: 'string',
    help: 'ESO: left delimiter of templates.',
    noEffect: 'templates use {{ and }}',
    refuse: (v) => (v === '{{' ? undefined : 'Tessera renders templates with {{ and }} only; other delimiters would change every templated Secret'),
  },
  {
    name: 'template-right-delimiter',
    type: 'string',
    help: 'ESO: right delimiter of templates.',
    noEffect: 'templates use {{ and }}',
    refuse: (v) => (v === '}}' ? undefined : 'Tessera renders templates with {{ and }} only; other delimiters would change every templated Secret'),
  },
  { name: 'enable-vault-token-cache', type: 'boolean', help: 'ESO: cache Vault tokens.', noEffect: vaultTokens },
  { name: 'vault-token-cache-size', type: 'number', help: 'ESO: size of the Vault token cache.', noEffect: vaultTokens },
  { name: 'experimental-enable-vault-token-cache', type: 'boolean', help: 'ESO: cache Vault tokens (old name).', noEffect: vaultTokens },
  { name: 'experimental-vault-token-cache-size', type: 'number', help: 'ESO: size of the Vault token cache (old name).', noEffect: vaultTokens },
  { name: 'experimental-enable-doppler-oidc-cache', type: 'boolean', help: 'ESO: cache Doppler OIDC tokens.', noEffect: 'Tessera has no Doppler provider' },
  { name: 'experimental-doppler-oidc-cache-size', type: 'number', help: 'ESO: size of the Doppler OIDC token cache.', noEffect: 'Tessera has no Doppler provider' },
  { name: 'doppler-etag-cache-size', type: 'number', help: 'ESO: size of the Doppler ETag cache.', noEffect: 'Tessera has no Doppler provider' },
  { name: 'mysterybox-tokens-cache-size', type: 'number', help: 'ESO: size of the Nebius MysteryBox token cache.', noEffect: 'Tessera has no Nebius MysteryBox provider' },
  { name: 'mysterybox-connections-cache-size', type: 'number', help: 'ESO: size of the Nebius MysteryBox connection cache.', noEffect: 'Tessera has no Nebius MysteryBox provider' },
  { name: 'pulumi-oidc-cache-size', type: 'number', help: 'ESO: size of the Pulumi OIDC token cache.', noEffect: 'Tessera has no Pulumi provider' },
];

export interface EsoFlagWarning {
  flag: string;
  reason: string;
}

/**
 * The ESO-only flags given on the command line: a warning for each, or a usage error naming the
 * first whose value is refused. They have no default, so a value is present only when given.
 */
export function esoFlagWarnings(values: FlagValues): EsoFlagWarning[] {
  const warnings: EsoFlagWarning[] = [];
  for (const spec of esoCompatibilityFlags) {
    const value = values[spec.name];
    if (value === undefined || Array.isArray(value)) continue;
    const refused = spec.refuse?.(value);
    if (refused) throw new UsageError(`--${spec.name}=${String(value)} is refused: ${refused}`);
    warnings.push({ flag: spec.name, reason: spec.noEffect });
  }
  return warnings;
}

/** ESO's zap levels that pino lacks, mapped to the pino level that logs the same lines. */
const zapOnlyLevels: Record<string, string> = { dpanic: 'error', panic: 'fatal' };

/** The pino level for `--log-level`/`--loglevel`: Tessera's levels and ESO's (zap's) names. */
export function logLevelFromFlag(raw: string): string {
  const level = zapOnlyLevels[raw] ?? raw;
  if (!(logLevels as readonly string[]).includes(level)) {
    throw new UsageError(`--log-level: expected one of ${[...logLevels, ...Object.keys(zapOnlyLevels)].join(', ')}, got ${JSON.stringify(raw)}`);
  }
  return level;
}
