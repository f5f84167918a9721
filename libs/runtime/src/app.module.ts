import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import type { Clock } from '@palisade/domain';
import { ObservabilityModule } from '@palisade/observability';
import type { Logger } from 'pino';
import { CoreModule } from './core.module';
import { HttpErrorFilter } from './http/http-error.filter';
import { HttpThrottlerGuard } from './http/http-throttler.guard';
import { ServiceDefinition } from './service-definition';

export interface AppModuleOptions {
  services: readonly ServiceDefinition[];
  configs: ReadonlyMap<string, unknown>;
  logger: Logger;
  /** Requests per minute per client address, across the API (default 1200). */
  rateLimitPerMinute?: number;
  /** What CLOCK resolves to (default: the system clock). */
  clock?: Clock;
}

/** The Nest application: core, observability, HTTP defaults, then the chosen services' root modules. */
@Module({})
export class PalisadeAppModule {
  static register(options: AppModuleOptions): DynamicModule {
    return {
      module: PalisadeAppModule,
      imports: [
        CoreModule.register(options.logger, options.clock),
        ObservabilityModule.forRoot(),
        ThrottlerModule.forRoot([
          { name: 'default', ttl: 60_000, limit: options.rateLimitPerMinute ?? 1200 },
        ]),
        ...options.services.map((service) => service.module(options.configs.get(service.context.context))),
      ],
      providers: [
        { provide: APP_FILTER, useClass: HttpErrorFilter },
        { provide: APP_GUARD, useClass: HttpThrottlerGuard },
      ],
    };
  }
}
