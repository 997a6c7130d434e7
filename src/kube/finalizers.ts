// Removing one finalizer that another controller put on an object, without a read-modify-write of
// the whole list: a JSON patch that first tests the finalizer is still at the index we saw, so a
// concurrent change of the list (another controller removing its own) is never overwritten.
import { ApiError, isNotFound, type KubeClient } from './client.ts';
import type { KubeObject, ResourceType } from './types.ts';

/**
 * Removes `finalizer` from the object (read from `obj`, then re-read after a lost race). A failed
 * test (422) or a conflict (409) reads the object again and retries; gone already, or the
 * finalizer no longer there: done.
 */
export async function removeFinalizerFrom(
  kube: Pick<KubeClient, 'patch' | 'tryGet'>,
  rt: ResourceType,
  obj: KubeObject,
  finalizer: string,
  signal?: AbortSignal,
  attempts = 5,
): Promise<void> {
  const namespace = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  let current: KubeObject | undefined = obj;
  for (let i = 0; ; i++) {
    const index = (current.metadata?.finalizers ?? []).indexOf(finalizer);
    if (index < 0) return;
    const path = `/metadata/finalizers/${index}`;
    try {
      await kube.patch(rt, namespace, name, 'json', [{ op: 'test', path, value: finalizer }, { op: 'remove', path }], { signal });
      return;
    } catch (e) {
      if (isNotFound(e)) return;
      const retry = e instanceof ApiError && (e.code === 409 || e.code === 422);
      if (!retry || i + 1 >= attempts) throw e;
    }
    current = await kube.tryGet<KubeObject>(rt, namespace, name, { signal });
    if (!current) return;
  }
}
