// The test apiserver reports the Kubernetes release it is built from (test/peers/build.sh stamps
// it as Kubernetes' own build does), because Helm's kubeVersion checks, kubectl's skew warnings
// and Argo CD read /version; an unstamped build says v0.0.0-master+$Format:%H$.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, it } from 'node:test';
import type { KubeClient } from '../../src/kube/client.ts';
import { repoRoot } from '../peers/index.ts';
import { adminClient, peers } from './helpers.ts';

let admin: KubeClient;
before(async () => {
  await peers();
  admin = await adminClient();
});

it('/version reports the pinned Kubernetes release', async () => {
  const pinned = readFileSync(path.join(repoRoot, 'test/peers/go/kube/K8S_VERSION'), 'utf8').trim();
  const [major, minor] = pinned.replace(/^v/, '').split('.');
  const v = await admin.request<{ gitVersion: string; major: string; minor: string; gitTreeState: string }>('GET', '/version');
  assert.equal(v.gitVersion, pinned, 'restart the peers from a build of test/peers/build.sh that stamps the version');
  assert.equal(v.major, major);
  assert.equal(v.minor, minor);
  assert.equal(v.gitTreeState, 'clean');
});
