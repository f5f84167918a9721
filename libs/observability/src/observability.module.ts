import { DynamicModule, Inject, Module, OnModuleInit } from '@nestjs/common';
import { collectDefaultMetricsOnce } from './metrics';
import { ObservabilityController } from './observability.controller';
import { OBSERVABILITY_OPTIONS } from './observability.options';
import type { ObservabilityModuleOptions, ResolvedObservabilityOptions } from './observability.options';
import { DEFAULT_READINESS_TIMEOUT_MS, ReadinessRegistry } from './readiness';

/**
 * GET /healthz, /readyz and /metrics, and the global `ReadinessRegistry` other modules
 * register their checks with. Import once, in the application's root module.
 */
@Module({})
export class ObservabilityModule implements OnModuleInit {
  constructor(@Inject(OBSERVABILITY_OPTIONS) private readonly options: ResolvedObservabilityOptions) {}

  static forRoot(options: ObservabilityModuleOptions = {}): DynamicModule {
    const resolved: ResolvedObservabilityOptions = {
      readinessTimeoutMs: options.readinessTimeoutMs ?? DEFAULT_READINESS_TIMEOUT_MS,
      defaultMetrics: options.defaultMetrics ?? true,
    };
    return {
      module: ObservabilityModule,
      global: true,
      controllers: [ObservabilityController],
      providers: [{ provide: OBSERVABILITY_OPTIONS, useValue: resolved }, ReadinessRegistry],
      exports: [ReadinessRegistry],
    };
  }

  onModuleInit(): void {
    if (this.options.defaultMetrics) collectDefaultMetricsOnce();
  }
}
