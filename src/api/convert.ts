// v1beta1 → v1. The two versions have the same shape for every field Tessera reads (v1 only adds
// fields), which is why the CRDs use conversion strategy None. The helper exists for offline
// tools that read manifests from files, where no apiserver rewrites apiVersion for them.
import { API_VERSION_V1, GROUP } from './constants.ts';

export function toV1<T extends { apiVersion?: string }>(obj: T): T {
  if (obj.apiVersion === undefined || !obj.apiVersion.startsWith(`${GROUP}/`)) return obj;
  return { ...obj, apiVersion: API_VERSION_V1 };
}
