import { context, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import {
  createLogger,
  currentTraceparent,
  extractContext,
  hasTraceContext,
  injectTraceparent,
  startTelemetry,
  Telemetry,
  telemetryStarted,
  withExtractedContext,
} from '../src';

const REMOTE_TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const REMOTE_PARENT = `00-${REMOTE_TRACE_ID}-b7ad6b7169203331-01`;

describe('trace context across messages (telemetry started without an exporter)', () => {
  let telemetry: Telemetry;
  const tracer = () => trace.getTracer('palisade-test');

  beforeAll(() => {
    telemetry = startTelemetry({ serviceName: 'palisade-test', mode: 'dev' });
  });
  afterAll(async () => {
    await telemetry.shutdown();
  });

  it('uses W3C trace context as the global propagator', () => {
    expect(propagation.fields()).toEqual(expect.arrayContaining(['traceparent', 'tracestate']));
    expect(telemetry.exporting).toBe(false);
  });

  it('gives a span started inside an extracted context the parent trace id', async () => {
    const parent = tracer().startSpan('publish');
    const headers = injectTraceparent({}, trace.setSpan(context.active(), parent));
    expect(headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

    const child = await withExtractedContext(headers, async () => {
      await Promise.resolve(); // the context survives awaits
      return tracer().startSpan('consume');
    });
    expect(child.spanContext().traceId).toBe(parent.spanContext().traceId);
    expect(child.spanContext().spanId).not.toBe(parent.spanContext().spanId);
    expect((child as unknown as { parentSpanContext?: { spanId: string } }).parentSpanContext?.spanId).toBe(
      parent.spanContext().spanId,
    );
    child.end();
    parent.end();
  });

  it('continues a traceparent that came from elsewhere', () => {
    const span = withExtractedContext({ traceparent: REMOTE_PARENT }, () => tracer().startSpan('handle'));
    expect(span.spanContext().traceId).toBe(REMOTE_TRACE_ID);
    span.end();
    expect(hasTraceContext({ traceparent: REMOTE_PARENT })).toBe(true);
  });

  it('starts a new trace when the headers carry none (or a malformed one)', () => {
    for (const headers of [
      {},
      { traceparent: 'garbage' },
      { traceparent: `00-${'0'.repeat(32)}-b7ad6b7169203331-01` },
    ]) {
      expect(hasTraceContext(headers)).toBe(false);
      const span = withExtractedContext(headers, () => tracer().startSpan('root'));
      expect(span.spanContext().traceId).not.toBe(REMOTE_TRACE_ID);
      expect(trace.isSpanContextValid(span.spanContext())).toBe(true);
      span.end();
    }
  });

  it('injects nothing outside a trace, and the active span inside one', () => {
    expect(injectTraceparent({}, ROOT_CONTEXT)).toEqual({});
    expect(currentTraceparent(ROOT_CONTEXT)).toBeUndefined();
    tracer().startActiveSpan('outer', (span) => {
      expect(currentTraceparent()).toBe(`00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`);
      span.end();
    });
  });

  it('keeps the extracted context separate from the base context', () => {
    const extracted = extractContext({ traceparent: REMOTE_PARENT }, ROOT_CONTEXT);
    expect(trace.getSpanContext(extracted)?.isRemote).toBe(true);
    expect(trace.getSpanContext(ROOT_CONTEXT)).toBeUndefined();
  });

  it('stamps log lines with the active trace and span ids', () => {
    const lines: string[] = [];
    const logger = createLogger({
      service: 's',
      destination: { write: (line: string) => void lines.push(line) },
    });
    tracer().startActiveSpan('work', (span) => {
      logger.info('inside');
      span.end();
    });
    logger.info('outside');
    const [inside, outside] = lines.map((line) => JSON.parse(line));
    expect(inside.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(inside.span_id).toMatch(/^[0-9a-f]{16}$/);
    expect(outside.trace_id).toBeUndefined();
  });
});

describe('startTelemetry', () => {
  it('is idempotent: callers share one SDK that stops with the last holder', async () => {
    const first = startTelemetry({ serviceName: 'palisade-identity', mode: 'dev' });
    const second = startTelemetry({ serviceName: 'palisade-audit', mode: 'dev' });
    expect(second.serviceName).toBe('palisade-identity');
    expect(telemetryStarted()).toBe(true);

    await first.shutdown();
    await first.shutdown(); // releasing twice does not release someone else's hold
    expect(telemetryStarted()).toBe(true);
    expect(propagation.fields()).toContain('traceparent');

    await second.shutdown();
    expect(telemetryStarted()).toBe(false);

    // A fresh start after a full stop registers again.
    const again = startTelemetry({ serviceName: 'palisade-again', mode: 'production' });
    expect(again.serviceName).toBe('palisade-again');
    const span = withExtractedContext({ traceparent: REMOTE_PARENT }, () =>
      trace.getTracer('t').startSpan('x'),
    );
    expect(span.spanContext().traceId).toBe(REMOTE_TRACE_ID);
    span.end();
    await again.shutdown();
  });

  it('exports only when an endpoint is configured', async () => {
    const exporting = startTelemetry({
      serviceName: 'palisade-otlp',
      otlpEndpoint: 'http://127.0.0.1:1/',
      mode: 'dev',
    });
    expect(exporting.exporting).toBe(true);
    // Nothing was recorded, so shutting down sends nothing (no I/O in a unit test).
    await exporting.shutdown();
  });
});
