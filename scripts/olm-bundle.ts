// The OLM bundle's ClusterServiceVersion, derived from what deploy/ already says, so the three
// ways to install cannot drift: the controller's rules (deploy/rbac), its Deployment
// (deploy/default) and the CRDs it owns (deploy/crds), at package.json's version. Written by
// scripts/generate.ts; test/unit/deploy/copies.test.ts checks it is current, and
// test/integration/olm.test.ts runs operator-framework's validators on the bundle.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';

export const csvPath = 'deploy/olm/manifests/tessera.clusterserviceversion.yaml';
/** The container variable the CSV's --shards reads; a Subscription's spec.config.env sets it. */
export const shardsVariable = 'TESSERA_SHARDS';

interface Crd {
  metadata: { name: string };
  spec: { group: string; names: { kind: string; singular: string }; versions: Array<{ name: string; storage: boolean }> };
}

/** A small tile for the OperatorHub catalogue: three interlocking squares (tesserae). */
const iconSvg =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect x="4" y="4" width="26" height="26" rx="3" fill="#2f6f9f"/><rect x="34" y="4" width="26" height="26" rx="3" fill="#4f9fcf"/><rect x="4" y="34" width="26" height="26" rx="3" fill="#4f9fcf"/><rect x="34" y="34" width="26" height="26" rx="3" fill="#2f6f9f"/></svg>';

const descriptions: Record<string, string> = {
  ExternalSecret: 'Which values to fetch from a store and the Secret to write them into.',
  SecretStore: 'How to reach an external secret manager from one namespace.',
  ClusterSecretStore: 'A store that ExternalSecrets of every (selected) namespace may use.',
  ClusterExternalSecret: 'One ExternalSecret spec, created in every namespace a selector picks.',
  PushSecret: 'Which keys of a Secret to write to external secret managers.',
  ClusterPushSecret: 'One PushSecret spec, created in every namespace a selector picks.',
  ClusterGenerator: 'A generator that ExternalSecrets of every namespace may use.',
  GeneratorState: 'State a generator keeps between runs (admitted; not written by this build).',
};

const storeRef = { kind: 'ClusterSecretStore', name: 'aws' };
const pushSpec = { secretStoreRefs: [{ kind: 'SecretStore', name: 'vault' }], selector: { secret: { name: 'app-tls' } }, data: [{ match: { secretKey: 'tls.crt', remoteRef: { remoteKey: 'app/tls', property: 'crt' } } }] };
/**
 * One example per owned kind, as OperatorHub asks (shown in the console's "Create" form). Kinds
 * this build admits but does not run get an empty spec: the console still offers them.
 */
const exampleSpecs: Record<string, Record<string, unknown>> = {
  ClusterExternalSecret: { externalSecretName: 'app', namespaceSelectors: [{ matchLabels: { team: 'payments' } }], refreshTime: '1m', externalSecretSpec: { secretStoreRef: storeRef, target: { name: 'app' }, data: [{ secretKey: 'password', remoteRef: { key: 'app/db', property: 'password' } }] } },
  PushSecret: pushSpec,
  ClusterPushSecret: { pushSecretName: 'app-tls', namespaceSelectors: [{ matchLabels: { team: 'payments' } }], pushSecretSpec: pushSpec },
  Password: { length: 32, digits: 5, symbols: 5, noUpper: false, allowRepeat: true },
  UUID: {},
  Fake: { data: { username: 'demo' } },
  SSHKey: { keyType: 'ed25519' },
  MFA: { secret: { name: 'totp-seed', key: 'seed' } },
  ECRAuthorizationToken: { region: 'eu-west-1' },
  STSSessionToken: { region: 'eu-west-1' },
  VaultDynamicSecret: { path: 'database/creds/app', method: 'GET', provider: { server: 'https://vault.example.com', auth: { tokenSecretRef: { name: 'vault-token', key: 'token' } } } },
  Webhook: { url: 'https://generator.example.com/new', method: 'POST', result: { jsonPath: '$.password' } },
  ClusterGenerator: { kind: 'Password', generator: { passwordSpec: { length: 32 } } },
};

/** The CSV text for the CRDs in `generated` (path → content of deploy/crds/*.yaml). */
export function clusterServiceVersion(root: string, crdTexts: string[]): string {
  const read = (p: string) => readFileSync(join(root, p), 'utf8');
  const version = (JSON.parse(read('package.json')) as { version: string }).version;
  const controllerRole = parse(read('deploy/rbac/clusterrole.yaml')) as { rules: unknown[] };
  const roleIn = (p: string) => parseAllDocuments(read(p)).map((d) => d.toJS()).find((o) => o?.kind === 'Role') as { rules: unknown[] };
  const leaseRole = roleIn('deploy/rbac/leader-election.yaml');
  // Granted whether or not --shards is on, as deploy/default does: a Subscription then turns
  // sharding on without an RBAC change (list and delete Leases, in the operator namespace only).
  const shardingRole = roleIn('deploy/rbac/sharding.yaml');
  const serviceAccount = (parse(read('deploy/rbac/serviceaccount.yaml')) as { metadata: { name: string } }).metadata.name;
  const deployment = parse(read('deploy/default/deployment.yaml'));
  const image = `localhost/tessera:${version}`;
  const pod = deployment.spec.template;
  const container = pod.spec.containers[0];
  container.image = image;
  // OLM writes the OperatorGroup's target namespaces into this annotation: one namespace with
  // OwnNamespace, empty (all namespaces) with AllNamespaces; --namespace takes it as it is.
  // A Subscription cannot change a container's arguments, only its environment
  // (spec.config.env replaces a variable of the same name), so --shards reads a variable:
  // TESSERA_SHARDS=0 keeps one active replica, docs/install.md shows how to set it.
  container.env = [
    ...(container.env ?? []),
    { name: 'WATCH_NAMESPACE', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['olm.targetNamespaces']" } } },
    { name: shardsVariable, value: '0' },
  ];
  container.args = [...container.args, '--namespace=$(WATCH_NAMESPACE)', `--shards=$(${shardsVariable})`];
  const labels = { 'app.kubernetes.io/name': 'tessera', 'app.kubernetes.io/instance': 'tessera', 'app.kubernetes.io/part-of': 'tessera', 'app.kubernetes.io/version': version, 'app.kubernetes.io/managed-by': 'olm' };
  pod.metadata.labels = { ...pod.metadata.labels, ...labels };
  const crds = crdTexts.map((t) => parse(t) as Crd);
  const owned = crds.map((c) => ({
    name: c.metadata.name,
    version: c.spec.versions.find((v) => v.storage)!.name,
    kind: c.spec.names.kind,
    displayName: c.spec.names.kind,
    description: descriptions[c.spec.names.kind] ?? `${c.spec.group} ${c.spec.names.kind}`,
  }));
  const examples = [
    {
      apiVersion: 'external-secrets.io/v1',
      kind: 'SecretStore',
      metadata: { name: 'vault' },
      spec: { provider: { vault: { server: 'https://vault.example.com', path: 'secret', version: 'v2', auth: { tokenSecretRef: { name: 'vault-token', key: 'token' } } } } },
    },
    {
      apiVersion: 'external-secrets.io/v1',
      kind: 'ExternalSecret',
      metadata: { name: 'app-credentials' },
      spec: { refreshInterval: '1h', secretStoreRef: { kind: 'SecretStore', name: 'vault' }, target: { name: 'app-credentials' }, data: [{ secretKey: 'password', remoteRef: { key: 'app/db', property: 'password' } }] },
    },
    {
      apiVersion: 'external-secrets.io/v1',
      kind: 'ClusterSecretStore',
      metadata: { name: 'aws' },
      spec: { provider: { aws: { service: 'SecretsManager', region: 'eu-west-1' } } },
    },
    ...crds.filter((c) => !['SecretStore', 'ExternalSecret', 'ClusterSecretStore'].includes(c.spec.names.kind)).map((c) => ({
      apiVersion: `${c.spec.group}/${c.spec.versions.find((v) => v.storage)!.name}`,
      kind: c.spec.names.kind,
      metadata: { name: `example-${c.spec.names.singular}` },
      spec: exampleSpecs[c.spec.names.kind] ?? {},
    })),
  ].filter((e) => owned.some((o) => o.kind === e.kind));
  const csv = {
    apiVersion: 'operators.coreos.com/v1alpha1',
    kind: 'ClusterServiceVersion',
    metadata: {
      name: `tessera.v${version}`,
      annotations: {
        'alm-examples': JSON.stringify(examples, null, 2),
        capabilities: 'Basic Install',
        categories: 'Security',
        containerImage: image,
        description: 'Keeps Kubernetes Secrets in sync with external secret managers; reads External Secrets Operator manifests.',
        'operatorframework.io/suggested-namespace': 'tessera-system',
        // HTTPS_PROXY, HTTP_PROXY and NO_PROXY, which OLM passes on from the cluster-wide proxy,
        // are honoured by every provider client and the API client.
        'features.operators.openshift.io/proxy-aware': 'true',
        'features.operators.openshift.io/disconnected': 'false',
        'features.operators.openshift.io/fips-compliant': 'false',
        'features.operators.openshift.io/tls-profiles': 'false',
        'features.operators.openshift.io/token-auth-aws': 'false',
        'features.operators.openshift.io/token-auth-azure': 'false',
        'features.operators.openshift.io/token-auth-gcp': 'false',
        'features.operators.openshift.io/cnf': 'false',
        'features.operators.openshift.io/cni': 'false',
        'features.operators.openshift.io/csi': 'false',
        repository: 'https://github.com/tessera-operator/tessera',
        support: 'Tessera',
      },
      labels: { 'operatorframework.io/arch.amd64': 'supported', 'operatorframework.io/os.linux': 'supported' },
    },
    spec: {
      displayName: 'Tessera',
      description:
        'Tessera syncs Kubernetes Secrets from external secret managers (AWS Secrets Manager and Parameter Store, HashiCorp Vault and OpenBao, other Kubernetes clusters).\n\n' +
        'It reads the manifests of External Secrets Operator (external-secrets.io v1 and v1beta1 ExternalSecrets, SecretStores and ClusterSecretStores), so existing ESO manifests apply unchanged.\n\n' +
        'Install it in AllNamespaces mode to serve the whole cluster, or OwnNamespace mode to serve its own namespace only.',
      version,
      maturity: 'alpha',
      icon: [{ base64data: Buffer.from(iconSvg).toString('base64'), mediatype: 'image/svg+xml' }],
      minKubeVersion: '1.29.0',
      provider: { name: 'Tessera' },
      maintainers: [{ name: 'Tessera maintainers', email: 'maintainers@tessera.invalid' }],
      links: [{ name: 'Documentation', url: 'https://github.com/tessera-operator/tessera/blob/main/docs/install.md' }],
      keywords: ['secrets', 'external-secrets', 'vault', 'aws'],
      installModes: [
        { type: 'OwnNamespace', supported: true },
        { type: 'SingleNamespace', supported: false },
        { type: 'MultiNamespace', supported: false },
        { type: 'AllNamespaces', supported: true },
      ],
      customresourcedefinitions: { owned: owned },
      install: {
        strategy: 'deployment',
        spec: {
          clusterPermissions: [{ serviceAccountName: serviceAccount, rules: controllerRole.rules }],
          permissions: [{ serviceAccountName: serviceAccount, rules: [...leaseRole.rules, ...shardingRole.rules] }],
          deployments: [{ name: deployment.metadata.name, label: { ...deployment.metadata.labels, ...labels }, spec: { ...deployment.spec, template: pod } }],
        },
      },
    },
  };
  return `# Code generated by scripts/generate.ts from deploy/default, deploy/rbac and deploy/crds. DO NOT EDIT.\n${stringify(csv, { lineWidth: 0 })}`;
}
