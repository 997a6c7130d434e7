// `npm run demo`: the platform team's example, end to end, on the local peers.
//  1. starts the peers (building them the first time) and installs the CRDs and RBAC;
//  2. stores the example's secret in the AWS emulator and starts the controller;
//  3. applies examples/aws/registry-db.yaml unchanged and prints the Secret and the status;
//  4. changes the value in AWS, forces a sync and prints the new value;
//  5. does the same from OpenBao (Vault API) with examples/vault/app-credentials.yaml.
// `npm run demo -- --only aws|vault|gcp|azure` runs one store's part instead (gcp: the Secret
// Manager emulator with examples/gcp/app-database.yaml; azure: examples/azure/app-credentials.yaml
// against a local Key Vault and Entra ID, see that file). Exits non-zero unless every
// ExternalSecret it applies becomes Ready.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { KubeClient } from '../src/kube/client.ts';
import { applyManifests, parseManifests } from '../src/kube/manifests.ts';
import { core, type KubeObject, type Secret } from '../src/kube/types.ts';
import { externalSecrets } from '../src/controllers/resources.ts';
import { gcpsmKeyFile, peersUp, repoRoot, stateDir, type PeerName } from '../test/peers/index.ts';
import { gcpsmAdmin } from '../test/peers/gcpsm-admin.ts';
import { installTessera, startOperator, waitFor } from '../test/peers/operator.ts';
import { runAzureDemo } from './demo-azure.ts';

interface ES extends KubeObject {
  status?: { conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>; refreshTime?: string; syncedResourceVersion?: string; binding?: { name: string } };
}

const say = (s: string) => process.stdout.write(`\n\x1b[1m▶ ${s}\x1b[0m\n`);
const example = (f: string) => readFileSync(path.join(repoRoot, 'examples', f), 'utf8');

function printSecret(s: Secret): void {
  console.log(`Secret ${s.metadata?.namespace}/${s.metadata?.name} (type ${s.type}):`);
  for (const [k, v] of Object.entries(s.data ?? {})) console.log(`  ${k} = ${Buffer.from(v, 'base64').toString('utf8')}`);
}

function printStatus(es: ES): void {
  const ready = es.status?.conditions?.find((c) => c.type === 'Ready');
  console.log(`ExternalSecret ${es.metadata?.namespace}/${es.metadata?.name}:`);
  console.log(`  Ready=${ready?.status} reason=${ready?.reason} message="${ready?.message}"`);
  console.log(`  refreshTime=${es.status?.refreshTime} syncedResourceVersion=${es.status?.syncedResourceVersion} binding=${es.status?.binding?.name}`);
}

async function waitReady(kube: KubeClient, ns: string, name: string): Promise<ES> {
  return waitFor(`${ns}/${name} to be Ready`, async () => {
    const es = await kube.tryGet<ES>(externalSecrets, ns, name);
    return es?.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True') ? es : undefined;
  }, 60_000);
}

const parts = ['aws', 'vault', 'gcp', 'azure'] as const;
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt >= 0 ? process.argv[onlyAt + 1] : undefined;
if (onlyAt >= 0 && (only === undefined || !(parts as readonly string[]).includes(only))) {
  console.error(`usage: npm run demo [-- --only ${parts.join('|')}]`);
  process.exit(2);
}
/** The default run is the platform example on AWS, then Vault, as before. */
const runs = (part: (typeof parts)[number]) => (only === undefined ? part === 'aws' || part === 'vault' : only === part);
const controlPlane: PeerName[] = ['etcd', 'kube-apiserver', 'kube-controller-manager'];
const storePeers: Record<string, PeerName[]> = { aws: ['moto'], vault: ['bao'], gcp: ['gcpsm'], azure: [] };

say('Starting the local peers (the first run builds them; see README)');
const env = only === undefined ? await peersUp() : await peersUp([...controlPlane, ...(storePeers[only] ?? [])]);
const kube = await KubeClient.create({ kubeconfig: env.KUBECONFIG, fieldManager: 'tessera-demo' });

say('Installing the external-secrets.io CRDs and the controller RBAC');
await installTessera(kube);

const sm = new SecretsManagerClient({ region: 'us-west-2', endpoint: env.AWS_ENDPOINT_URL, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY } });
const put = async (value: Record<string, string>) => {
  const SecretString = JSON.stringify(value);
  await sm.send(new CreateSecretCommand({ Name: 'model-registries-db-credentials', SecretString })).catch(() =>
    sm.send(new PutSecretValueCommand({ SecretId: 'model-registries-db-credentials', SecretString })),
  );
};
if (runs('aws')) {
  say('Storing the example secret in AWS Secrets Manager (moto, us-west-2)');
  await put({ 'database-password': 'correct-horse-battery-staple', 'database-user': 'registry' });
}

const azure = runs('azure') ? await runAzureDemo.prepare() : undefined;

say('Starting the controller (tessera run) under its own ServiceAccount');
// One part alone watches only its own namespace, so it can run beside other operators on shared peers.
const partNamespace: Record<string, string> = { aws: 'rhoai-model-registries', vault: 'demo-vault', gcp: 'demo-gcp', azure: 'demo-azure' };
const op = await startOperator(kube, env, ['--concurrent=4', ...(only !== undefined ? [`--namespace=${partNamespace[only]}`] : [])], azure?.operatorEnv ?? {}, { logLevel: 'info' });
console.log(`controller logs: ${path.join(stateDir, 'logs')}/tessera-*.log; metrics: ${op.metricsUrl}`);

/** A re-run starts from a clean slate, so what it prints is what this run synced. */
async function removeIfPresent(ns: string, name: string): Promise<void> {
  await kube.delete(externalSecrets, ns, name).catch(() => undefined);
  await waitFor(`old ${ns}/${name} to be gone`, async () => !(await kube.tryGet(externalSecrets, ns, name)));
  await kube.delete(core.secrets, ns, name).catch(() => undefined);
}

try {
  if (runs('aws')) {
    await removeIfPresent('rhoai-model-registries', 'registry-db-secrets');
    say('Applying examples/aws/registry-db.yaml unchanged (ClusterSecretStore + ExternalSecret, v1beta1)');
    await kube.apply(core.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'rhoai-model-registries' } });
    await applyManifests(kube, parseManifests(example('aws/registry-db.yaml')));
    const es = await waitReady(kube, 'rhoai-model-registries', 'registry-db-secrets');
    printSecret(await kube.get<Secret>(core.secrets, 'rhoai-model-registries', 'registry-db-secrets'));
    printStatus(es);

    say('Refresh: changing the password in AWS and forcing a sync (annotation force-sync)');
    await put({ 'database-password': 'rotated-password-2', 'database-user': 'registry' });
    await kube.patch(externalSecrets, 'rhoai-model-registries', 'registry-db-secrets', 'merge', { metadata: { annotations: { 'force-sync': String(Date.now()) } } });
    const rotated = await waitFor('the new value', async () => {
      const s = await kube.get<Secret>(core.secrets, 'rhoai-model-registries', 'registry-db-secrets');
      return Buffer.from(s.data?.MYSQL_ROOT_PASSWORD ?? '', 'base64').toString() === 'rotated-password-2' ? s : undefined;
    });
    printSecret(rotated);
  }

  if (runs('vault')) {
    await removeIfPresent('demo-vault', 'app-credentials');
    say('Vault (OpenBao): a SecretStore with a token and an ExternalSecret reading KV v2');
    const kv = await fetch(`${env.VAULT_ADDR}/v1/secret/data/apps/billing`, {
      method: 'POST',
      headers: { 'X-Vault-Token': env.VAULT_TOKEN, 'content-type': 'application/json' },
      body: JSON.stringify({ data: { username: 'billing', password: 'from-openbao' } }),
    });
    if (!kv.ok) throw new Error(`writing to OpenBao failed: ${kv.status} ${await kv.text()}`);
    await kube.apply(core.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo-vault' } });
    await kube.apply(core.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'vault-token', namespace: 'demo-vault' }, stringData: { token: env.VAULT_TOKEN } } as Secret);
    await applyManifests(kube, parseManifests(example('vault/app-credentials.yaml')));
    const v = await waitReady(kube, 'demo-vault', 'app-credentials');
    printSecret(await kube.get<Secret>(core.secrets, 'demo-vault', 'app-credentials'));
    printStatus(v);
  }

  if (azure) {
    await removeIfPresent('demo-azure', 'app-credentials');
    say('Azure Key Vault: applying examples/azure/app-credentials.yaml (ClusterSecretStore + ExternalSecret, key and property)');
    await azure.apply(kube, example('azure/app-credentials.yaml'));
    const a = await waitReady(kube, 'demo-azure', 'app-credentials');
    printSecret(await kube.get<Secret>(core.secrets, 'demo-azure', 'app-credentials'));
    printStatus(a);
  }

  if (runs('gcp')) {
    say('Google Cloud Secret Manager (the gcpsm emulator): a ClusterSecretStore with a service-account key and an ExternalSecret with key and property');
    await removeIfPresent('demo-gcp', 'app-database');
    const gsm = gcpsmAdmin();
    try {
      await gsm.put('app-database', JSON.stringify({ username: 'app', password: 'from-secret-manager' }));
    } finally {
      await gsm.close();
    }
    await kube.apply(core.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo-gcp' } });
    await kube.apply(core.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'gcp-sa-key', namespace: 'demo-gcp' }, stringData: { 'key.json': readFileSync(gcpsmKeyFile(), 'utf8') } } as Secret);
    await applyManifests(kube, parseManifests(example('gcp/app-database.yaml')));
    const g = await waitReady(kube, 'demo-gcp', 'app-database');
    printSecret(await kube.get<Secret>(core.secrets, 'demo-gcp', 'app-database'));
    printStatus(g);
  }
  say('Done. The peers keep running: `source .peers/env` to use them, `npm run peers:down` to stop them.');
} finally {
  await op.stop();
  await azure?.stop();
  sm.destroy();
  kube.close();
}
