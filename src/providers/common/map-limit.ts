// Runs an async function over items with at most `limit` calls in flight: the bounded fan-out
// providers use when one request (a find, a batch) turns into many remote reads.

/** Results in the order of `items`; the first rejection rejects the whole call. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
