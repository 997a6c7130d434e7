// Get-or-create helpers on prom-client's default registry: a module may be loaded twice (tests,
// tools), and a metric name must be registered once.
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
