import type { NextFunction, Request, Response } from 'express';
import { counter, histogram } from './metrics';

/** Buckets from 1 ms to 10 s: API calls, OIDC redirects and audit exports alike. */
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Requests outside every route are counted under one label, so scanners cannot grow the series. */
export const UNMATCHED_ROUTE = 'unmatched';

function httpMetrics() {
  return {
    requests: counter(
      'palisade_http_requests_total',
      'HTTP requests answered, by route template and status',
      ['method', 'route', 'status'],
    ),
    duration: histogram(
      'palisade_http_request_duration_seconds',
      'Time from the request to the end of the response, by route template',
      ['method', 'route'],
      HTTP_BUCKETS,
    ),
  };
}

/**
 * Express middleware for the RED metrics of the API: rate and errors by route template and
 * status, duration by route template. Mount it first, so that every answer is counted.
 */
export function httpMetricsMiddleware(): (req: Request, res: Response, next: NextFunction) => void {
  const metrics = httpMetrics();
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const template = (req.route as { path?: unknown } | undefined)?.path;
      const route = typeof template === 'string' ? `${req.baseUrl}${template}` : UNMATCHED_ROUTE;
      const method = req.method;
      metrics.requests.inc({ method, route, status: String(res.statusCode) });
      metrics.duration.observe({ method, route }, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  };
}
