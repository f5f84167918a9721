import { collectDefaultMetrics, Counter, Gauge, Histogram, Metric, Registry } from 'prom-client';

/** The process's one Prometheus registry (served at GET /metrics); every service in the process shares it. */
export const metricsRegistry = new Registry();

let defaultMetricsCollected = false;

/** Starts collecting Node's default metrics (CPU, memory, event loop, GC) into `metricsRegistry`, once per process. */
export function collectDefaultMetricsOnce(): void {
  if (defaultMetricsCollected) return;
  defaultMetricsCollected = true;
  collectDefaultMetrics({ register: metricsRegistry });
}

type MetricKind = 'counter' | 'histogram' | 'gauge';

/** The metric already registered under `name`, after checking it was defined the same way; undefined if none. */
function existing<M extends Metric<string>>(
  name: string,
  kind: MetricKind,
  type: abstract new (...args: never[]) => M,
  labelNames: readonly string[],
): M | undefined {
  const found = metricsRegistry.getSingleMetric(name);
  if (found === undefined) return undefined;
  if (!(found instanceof type)) throw new Error(`metric ${name} is already registered, but not as a ${kind}`);
  const registeredLabels = [...((found as unknown as { labelNames?: string[] }).labelNames ?? [])].sort();
  if (registeredLabels.join(',') !== [...labelNames].sort().join(',')) {
    throw new Error(
      `metric ${name} is already registered with labels [${registeredLabels.join(', ')}], not [${labelNames.join(', ')}]`,
    );
  }
  return found;
}

/** A counter in `metricsRegistry`; calling it again with the same name returns the same counter. */
export function counter<L extends string = string>(
  name: string,
  help: string,
  labelNames: readonly L[] = [],
): Counter<L> {
  return (
    existing(name, 'counter', Counter<L>, labelNames) ??
    new Counter<L>({ name, help, labelNames, registers: [metricsRegistry] })
  );
}

/** A histogram in `metricsRegistry` (default buckets unless given); idempotent by name like `counter`. */
export function histogram<L extends string = string>(
  name: string,
  help: string,
  labelNames: readonly L[] = [],
  buckets?: number[],
): Histogram<L> {
  return (
    existing(name, 'histogram', Histogram<L>, labelNames) ??
    new Histogram<L>({
      name,
      help,
      labelNames,
      registers: [metricsRegistry],
      ...(buckets ? { buckets } : {}),
    })
  );
}

/** A gauge in `metricsRegistry`; idempotent by name like `counter`. */
export function gauge<L extends string = string>(
  name: string,
  help: string,
  labelNames: readonly L[] = [],
): Gauge<L> {
  return (
    existing(name, 'gauge', Gauge<L>, labelNames) ??
    new Gauge<L>({ name, help, labelNames, registers: [metricsRegistry] })
  );
}

/**
 * Runs `collect` before every read of `metric` (each scrape of /metrics), for values read from
 * elsewhere (a database, JetStream): prom-client awaits it. Replaces any earlier one.
 */
export function onCollect(metric: Metric<string>, collect: () => void | Promise<void>): void {
  (metric as unknown as { collect?: () => void | Promise<void> }).collect = collect;
}
