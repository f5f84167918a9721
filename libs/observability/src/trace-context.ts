import { Context, context, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

/** Message headers as the messaging library carries them (NATS headers, CloudEvents extensions). */
export type TraceCarrier = Record<string, string>;

/**
 * Makes W3C Trace Context the global propagator unless one that writes `traceparent` is set
 * (startTelemetry sets the same). Lazy, so importing this module has no side effect.
 */
export function ensureTraceContextPropagator(): void {
  if (!propagation.fields().includes('traceparent'))
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
}

/** Writes `traceparent` (and `tracestate`) of `ctx` (default: the active context) into the carrier; returns it. */
export function injectTraceparent(carrier: TraceCarrier, ctx: Context = context.active()): TraceCarrier {
  ensureTraceContextPropagator();
  propagation.inject(ctx, carrier);
  return carrier;
}

/** The `traceparent` of the active span, e.g. for a CloudEvents `traceparent` extension; undefined outside a trace. */
export function currentTraceparent(ctx: Context = context.active()): string | undefined {
  return injectTraceparent({}, ctx).traceparent;
}

/** The context a message's headers continue (the remote parent span), on top of `base` (default: the active context). */
export function extractContext(
  carrier: Readonly<Record<string, string | undefined>>,
  base: Context = context.active(),
): Context {
  ensureTraceContextPropagator();
  return propagation.extract(base, carrier);
}

/**
 * Runs `fn` inside the trace the carrier's `traceparent` names, so spans started in it (and in
 * what it awaits) are children of the sender's span. Needs startTelemetry's context manager.
 */
export function withExtractedContext<T>(
  carrier: Readonly<Record<string, string | undefined>>,
  fn: () => T,
): T {
  return context.with(extractContext(carrier), fn);
}

/** Whether a carrier holds a valid trace context. */
export function hasTraceContext(carrier: Readonly<Record<string, string | undefined>>): boolean {
  const remote = trace.getSpanContext(extractContext(carrier, ROOT_CONTEXT));
  return remote !== undefined && trace.isSpanContextValid(remote);
}
