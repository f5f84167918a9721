import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
// The SDK's own copies of resources/metrics/tracing, so the objects we hand it match its versions.
import { metrics as sdkMetrics, NodeSDK, resources, tracing } from '@opentelemetry/sdk-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { hostname } from 'node:os';

export interface TelemetryOptions {
  /** `service.name` of every span and metric, e.g. `palisade-identity` or `palisade` for the all-in-one process. */
  serviceName: string;
  /** OTLP/HTTP collector base URL (OTEL_EXPORTER_OTLP_ENDPOINT); nothing is exported without it. */
  otlpEndpoint?: string;
  /** Reported as `deployment.environment.name`. */
  mode: 'dev' | 'demo' | 'production';
}

/** A handle on the process's telemetry; `shutdown()` flushes and stops it when the last holder lets go. */
export interface Telemetry {
  /** The service name the process's telemetry was started with (the first caller's). */
  readonly serviceName: string;
  /** Whether spans and metrics are exported (an endpoint was configured). */
  readonly exporting: boolean;
  shutdown(): Promise<void>;
}

/** Paths whose requests are not traced (probes and scrapes). */
const UNTRACED_PATHS = new Set(['/metrics', '/healthz', '/readyz']);

interface TelemetryState {
  sdk: NodeSDK;
  instrumentations: { disable(): void }[];
  serviceName: string;
  exporting: boolean;
  holders: number;
}

// Kept on globalThis, like OpenTelemetry's own globals, so two copies of this module still share one SDK.
const STATE = Symbol.for('palisade.observability.telemetry');
type GlobalWithTelemetry = typeof globalThis & { [STATE]?: TelemetryState };

/**
 * Starts OpenTelemetry for the process (traces and metrics, http and pg instrumentation, W3C
 * trace context). OTLP/HTTP export happens only with an endpoint; without one spans are still
 * created and propagated, just not exported. Idempotent: services sharing a process share one
 * SDK, and each caller's `shutdown()` releases its hold (the SDK stops with the last one).
 * Start it before `pg` is first required, or pg queries are not instrumented.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  const global = globalThis as GlobalWithTelemetry;
  const state = (global[STATE] ??= createState(options));
  state.holders += 1;
  let released: Promise<void> | undefined;
  return {
    serviceName: state.serviceName,
    exporting: state.exporting,
    shutdown: () => (released ??= release(state)),
  };
}

function createState(options: TelemetryOptions): TelemetryState {
  const endpoint = options.otlpEndpoint?.replace(/\/+$/, '');
  const spanProcessor = endpoint
    ? new tracing.BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }))
    : // A tracer provider registers (context manager, propagator) only with a processor; this one drops spans.
      new tracing.NoopSpanProcessor();
  const instrumentations = [
    new HttpInstrumentation({
      ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.has((request.url ?? '').split('?')[0]),
    }),
    // No query parameters in spans (they can hold secrets); no spans for background polling.
    new PgInstrumentation({ enhancedDatabaseReporting: false, requireParentSpan: true }),
  ];
  const sdk = new NodeSDK({
    resource: resources.defaultResource().merge(
      resources.resourceFromAttributes({
        [ATTR_SERVICE_NAME]: options.serviceName,
        'deployment.environment.name': options.mode,
        'host.name': hostname(),
        'process.pid': process.pid,
        'process.runtime.name': 'nodejs',
        'process.runtime.version': process.versions.node,
      }),
    ),
    // No detectors: the env detector would read OTEL_RESOURCE_ATTRIBUTES behind the config's back,
    // the host detector reads files, and the process detector records command-line arguments.
    autoDetectResources: false,
    spanProcessors: [spanProcessor],
    // Explicitly none, or the SDK would default to an OTLP log exporter on localhost.
    logRecordProcessors: [],
    ...(endpoint
      ? {
          metricReader: new sdkMetrics.PeriodicExportingMetricReader({
            exporter: new OTLPMetricExporter({ url: `${endpoint}/v1/metrics` }),
          }),
        }
      : {}),
    textMapPropagator: new W3CTraceContextPropagator(),
    instrumentations,
  });
  sdk.start();
  return {
    sdk,
    instrumentations,
    serviceName: options.serviceName,
    exporting: endpoint !== undefined,
    holders: 0,
  };
}

async function release(state: TelemetryState): Promise<void> {
  state.holders -= 1;
  if (state.holders > 0) return;
  const global = globalThis as GlobalWithTelemetry;
  if (global[STATE] === state) delete global[STATE];
  // Unpatch and unregister first (synchronously), so a startTelemetry during the flush below
  // starts clean: the SDK leaves its instrumentations patched and the API globals registered.
  for (const instrumentation of state.instrumentations) instrumentation.disable();
  trace.disable();
  metrics.disable();
  propagation.disable();
  context.disable();
  // The providers still hold their processors and readers: this flushes what was recorded.
  await state.sdk.shutdown();
}

/** Whether telemetry is running in this process. */
export function telemetryStarted(): boolean {
  return (globalThis as GlobalWithTelemetry)[STATE] !== undefined;
}
