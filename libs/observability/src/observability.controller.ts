import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { metricsRegistry } from './metrics';
import { OBSERVABILITY_OPTIONS } from './observability.options';
import type { ResolvedObservabilityOptions } from './observability.options';
import { ReadinessCheckResult, ReadinessRegistry } from './readiness';

/** GET /readyz's body. */
export interface ReadinessResponse {
  status: 'ready' | 'not_ready';
  checks: ReadinessCheckResult[];
}

/** Liveness, readiness and Prometheus metrics of the process. */
@Controller()
export class ObservabilityController {
  constructor(
    private readonly readiness: ReadinessRegistry,
    @Inject(OBSERVABILITY_OPTIONS) private readonly options: ResolvedObservabilityOptions,
  ) {}

  /** Liveness: 200 while the process serves HTTP. */
  @Get('healthz')
  @Header('Cache-Control', 'no-store')
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: every registered check, 200 when all pass, 503 with each result otherwise. */
  @Get('readyz')
  @Header('Cache-Control', 'no-store')
  async readyz(@Res({ passthrough: true }) response: Response): Promise<ReadinessResponse> {
    const report = await this.readiness.run(this.options.readinessTimeoutMs);
    response.status(report.ok ? 200 : 503);
    return { status: report.ok ? 'ready' : 'not_ready', checks: report.checks };
  }

  /** Prometheus text exposition of the process's registry. */
  @Get('metrics')
  async metrics(@Res() response: Response): Promise<void> {
    const body = await metricsRegistry.metrics();
    // Written directly: express's send() would rewrite the exposition format's content type.
    response.status(200).setHeader('Content-Type', metricsRegistry.contentType);
    response.setHeader('Cache-Control', 'no-store');
    response.end(body);
  }
}
