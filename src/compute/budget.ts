// The compute budgets as the command line spells them: --template-timeout (a duration),
// --template-memory-limit (a Kubernetes quantity) and --template-workers.
export const DEFAULT_TEMPLATE_TIMEOUT = '2s';
export const DEFAULT_TEMPLATE_MEMORY_LIMIT = '64Mi';
export const DEFAULT_TEMPLATE_WORKERS = 2;

/** "64Mi", "1Gi", "128M", "100000000" → MiB (V8 takes whole MiB). Throws on anything else. */
export function parseMemoryLimitMb(text: string): number {
  const m = /^(\d+)(Ki|Mi|Gi|k|M|G)?$/.exec(text.trim());
  if (!m) throw new RangeError(`expected a quantity such as 64Mi or 1Gi, got ${JSON.stringify(text)}`);
  const unit = { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, k: 1e3, M: 1e6, G: 1e9 }[m[2] ?? '']!;
  const mb = Math.floor((Number(m[1]) * unit) / 1024 ** 2);
  // Below this a worker cannot even load the template engine.
  if (mb < 16) throw new RangeError(`must be at least 16Mi, got ${JSON.stringify(text)}`);
  return mb;
}
