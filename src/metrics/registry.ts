// Get-or-create helpers on prom-client's default registry: a module may be loaded twice (tests,
// tools), and a metric name must be registered once.
import type { Writable } from 'node:stream';
import { Counter, Gauge, Histogram, register } from 'prom-client';

export function counter(name: string, help: string, labelNames: string[]): Counter {
  return (register.getSingleMetric(name) as Counter | undefined) ?? new Counter({ name, help, labelNames });
}

/** `collect` runs at each scrape, for gauges whose value is a function of time (work in progress). */
export function gauge(name: string, help: string, labelNames: string[], collect?: () => void): Gauge {
  return (register.getSingleMetric(name) as Gauge | undefined) ?? new Gauge({ name, help, labelNames, ...(collect ? { collect } : {}) });
}

export function histogram(name: string, help: string, labelNames: string[], buckets: number[]): Histogram {
  return (register.getSingleMetric(name) as Histogram | undefined) ?? new Histogram({ name, help, labelNames, buckets });
}

/** A metric family that gives its own exposition text, chunk by chunk (object-metrics.ts). */
export interface TextWriter {
  textChunks(): Iterable<string>;
}

export function isTextWriter(m: unknown): m is TextWriter {
  return typeof (m as Partial<TextWriter>).textChunks === 'function';
}

/**
 * The registry's whole exposition text (as register.metrics() gives it), written to `out` a
 * metric at a time: families that write their own text (TextWriter) do so in chunks, so a scrape
 * of thousands of per-object series holds no page-sized string or per-series objects. Waits
 * for the stream to drain when it asks to.
 */
export async function writeAllMetrics(out: Writable): Promise<void> {
  let first = true;
  const write = async (chunk: string) => {
    if (out.destroyed) throw new Error('the metrics reader went away');
    if (out.write(chunk)) return;
    // A reader that went away closes the stream instead of draining it.
    await new Promise<void>((resolve) => {
      const done = () => {
        out.off('drain', done);
        out.off('close', done);
        resolve();
      };
      out.on('drain', done);
      out.on('close', done);
    });
  };
  for (const metric of register.getMetricsAsArray()) {
    if (!first) await write('\n\n');
    first = false;
    if (isTextWriter(metric)) {
      for (const chunk of metric.textChunks()) await write(chunk);
    } else {
      await write(await register.getSingleMetricAsString(metric.name));
    }
  }
  await write('\n');
}
