// target.template through the operator: Go templates with sprig, templateFrom a ConfigMap,
// metadata templates, rewrite transforms, and a template error reported with its position.
// Uses the fake provider (values declared in the store), so only the control plane is needed.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeClient } from '../../src/kube/client.ts';
import { core, type KubeObject, type Secret } from '../../src/kube/types.ts';
import { externalSecrets, secretStores } from '../../src/controllers/resources.ts';
import { adminClient, decodeSecret, freshNamespace, peers, waitReady } from './helpers.ts';
import { installTessera, startOperator } from './operator.ts';

let admin: KubeClient;
let ns: string;


before(async () => {
  const env = await peers();
  admin = await adminClient();
  await installTessera(admin);
  await startOperator(admin, env);
  ns = await freshNamespace(admin, 'tpl');
  await admin.create(secretStores, {
    apiVersion: 'external-secrets.io/v1',
    kind: 'SecretStore',
    metadata: { name: 'fake', namespace: ns },
    spec: {
      provider: {
        fake: {
          data: [
            { key: 'registry', value: JSON.stringify({ user: 'robot', password: 'hunter2', server: 'registry.example.com' }) },
            { key: 'db/host', value: 'db.internal' },
            { key: 'db/port', value: '5432' },
          ],
        },
      },
    },
  } as KubeObject);
});

describe('templates through the operator', () => {
  it('renders a docker config JSON, metadata, and templateFrom a ConfigMap', async () => {
    await admin.create(core.configMaps, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'app-config-tpl', namespace: ns },
      data: { 'app.yaml': 'database:\n  url: postgres://{{ .user }}@{{ .server | upper }}/app\n' },
    } as KubeObject);
    await admin.create(externalSecrets, {
      apiVersion: 'external-secrets.io/v1',
      kind: 'ExternalSecret',
      metadata: { name: 'pull', namespace: ns },
      spec: {
        secretStoreRef: { name: 'fake' },
        dataFrom: [{ extract: { key: 'registry' } }],
        target: {
          template: {
            engineVersion: 'v2',
            type: 'kubernetes.io/dockerconfigjson',
            metadata: { labels: { team: '{{ .user }}-team' } },
            data: {
              '.dockerconfigjson': '{"auths":{"{{ .server }}":{"auth":"{{ printf "%s:%s" .user .password | b64enc }}"}}}',
            },
            templateFrom: [{ configMap: { name: 'app-config-tpl', items: [{ key: 'app.yaml' }] } }],
          },
        },
      },
    } as KubeObject);
    await waitReady(admin, ns, 'pull', 'True');
    const s = await admin.get<Secret>(core.secrets, ns, 'pull');
    assert.equal(s.type, 'kubernetes.io/dockerconfigjson');
    assert.equal(s.metadata?.labels?.team, 'robot-team');
    const data = decodeSecret(s);
    assert.deepEqual(JSON.parse(data['.dockerconfigjson']!), { auths: { 'registry.example.com': { auth: Buffer.from('robot:hunter2').toString('base64') } } });
    assert.equal(data['app.yaml'], 'database:\n  url: postgres://robot@REGISTRY.EXAMPLE.COM/app\n');
  });

  it('rewrites keys with a transform template', async () => {
    await admin.create(externalSecrets, {
      apiVersion: 'external-secrets.io/v1',
      kind: 'ExternalSecret',
      metadata: { name: 'db', namespace: ns },
      spec: {
        secretStoreRef: { name: 'fake' },
        dataFrom: [{ find: { path: 'db/' }, rewrite: [{ regexp: { source: 'db/(.*)', target: '$1' } }, { transform: { template: 'DB_{{ .value | upper }}' } }] }],
      },
    } as KubeObject);
    await waitReady(admin, ns, 'db', 'True');
    assert.deepEqual(decodeSecret(await admin.get<Secret>(core.secrets, ns, 'db')), { DB_HOST: 'db.internal', DB_PORT: '5432' });
  });

  it('reports a template error with its line and column, and without the secret value', async () => {
    await admin.create(externalSecrets, {
      apiVersion: 'external-secrets.io/v1',
      kind: 'ExternalSecret',
      metadata: { name: 'broken', namespace: ns },
      spec: {
        secretStoreRef: { name: 'fake' },
        dataFrom: [{ extract: { key: 'registry' } }],
        target: { template: { data: { out: 'line one\n{{ .password | nosuchfunc }}' } } },
      },
    } as KubeObject);
    const c = await waitReady(admin, ns, 'broken', 'False', /template/);
    assert.match(c.message ?? '', /:2:/);
    assert.ok(!(c.message ?? '').includes('hunter2'));
    assert.equal(await admin.tryGet(core.secrets, ns, 'broken'), undefined);
  });
});
