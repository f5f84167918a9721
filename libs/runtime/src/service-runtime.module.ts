import { DynamicModule, Module } from '@nestjs/common';
import { createDatabase } from '@palisade/persistence';
import type { Logger } from 'pino';
import { ServiceRuntime, ServiceRuntimeOptions } from './service-runtime';
import {
  ROOT_LOGGER,
  SERVICE_CONFIG,
  SERVICE_DATABASE,
  SERVICE_LOGGER,
  SERVICE_RUNTIME_OPTIONS,
} from './tokens';

/**
 * What every service module imports first. Each import is its own instance, so inside a
 * service module SERVICE_CONFIG, SERVICE_DATABASE, SERVICE_LOGGER and ServiceRuntime are that
 * service's.
 */
@Module({})
export class ServiceRuntimeModule {
  static forService(options: ServiceRuntimeOptions): DynamicModule {
    return {
      module: ServiceRuntimeModule,
      providers: [
        { provide: SERVICE_RUNTIME_OPTIONS, useValue: options },
        { provide: SERVICE_CONFIG, useValue: options.config ?? {} },
        {
          provide: SERVICE_DATABASE,
          useFactory: () =>
            createDatabase({
              url: options.databaseUrl,
              schema: options.context.schema,
              poolSize: options.poolSize,
              applicationName: `palisade-${options.context.context}`,
            }),
        },
        {
          provide: SERVICE_LOGGER,
          inject: [ROOT_LOGGER],
          // A single-service process already stamps `service` on every line.
          useFactory: (root: Logger) =>
            root.bindings().service ? root : root.child({ service: options.context.context }),
        },
        ServiceRuntime,
      ],
      exports: [SERVICE_CONFIG, SERVICE_DATABASE, SERVICE_LOGGER, ServiceRuntime],
    };
  }
}
