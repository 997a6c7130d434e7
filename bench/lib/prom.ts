// Minimal Prometheus text-format reading: samples of one metric, summed by chosen labels.
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseProm(text: string, only?: (name: string) => boolean): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const brace = line.indexOf('{');
    const space = line.lastIndexOf(' ');
    const name = brace >= 0 && brace < space ? line.slice(0, brace) : line.slice(0, line.indexOf(' '));
    if (only && !only(name)) continue;
    const labels: Record<string, string> = {};
    if (brace >= 0 && brace < space) {
      const body = line.slice(brace + 1, line.lastIndexOf('}'));
      for (const m of body.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]!] = m[2]!;
    }
    out.push({ name, labels, value: Number(line.slice(space + 1)) });
  }
  return out;
}

/** Sums `metric` by the given labels: {"GET secrets": 12, ...} (keys joined by a space). */
export function sumBy(samples: Sample[], metric: string, by: string[], filter?: (l: Record<string, string>) => boolean): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) {
    if (s.name !== metric || (filter && !filter(s.labels))) continue;
    const k = by.map((b) => s.labels[b] ?? '').join(' ');
    out[k] = (out[k] ?? 0) + s.value;
  }
  return out;
}

export function diff(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d > 0) out[k] = Math.round(d);
  }
  return Object.fromEntries(Object.entries(out).sort((a, b) => b[1] - a[1]));
}

export const total = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);
