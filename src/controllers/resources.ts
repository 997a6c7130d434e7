// Collections of the external-secrets.io API as the runtime addresses them.
import { GROUP, STORAGE_VERSION } from '../api/constants.ts';
import type { ResourceType } from '../kube/types.ts';

export const externalSecrets: ResourceType = { group: GROUP, version: STORAGE_VERSION, plural: 'externalsecrets', kind: 'ExternalSecret', namespaced: true };
export const secretStores: ResourceType = { group: GROUP, version: STORAGE_VERSION, plural: 'secretstores', kind: 'SecretStore', namespaced: true };
export const clusterSecretStores: ResourceType = { group: GROUP, version: STORAGE_VERSION, plural: 'clustersecretstores', kind: 'ClusterSecretStore', namespaced: false };
export const clusterExternalSecrets: ResourceType = { group: GROUP, version: STORAGE_VERSION, plural: 'clusterexternalsecrets', kind: 'ClusterExternalSecret', namespaced: false };
export const pushSecrets: ResourceType = { group: GROUP, version: 'v1alpha1', plural: 'pushsecrets', kind: 'PushSecret', namespaced: true };
export const clusterPushSecrets: ResourceType = { group: GROUP, version: 'v1alpha1', plural: 'clusterpushsecrets', kind: 'ClusterPushSecret', namespaced: false };
