import { DynamicModule, Module } from '@nestjs/common';
import { RUNTIME_SCHEDULER, RUNTIME_SCHEDULER_EVENTS } from '@palisade/contracts';
import { ServiceRuntimeModule, serviceRuntimeOptions } from '@palisade/runtime';
import { runtimeSchedulerMigrations } from '../migrations';
import { RuntimeSchedulerConfig } from './runtime-scheduler.config';

/** The runtime-scheduler service's root module: mounted by its own main.ts and by `palisade dev` / `serve`. */
@Module({})
export class RuntimeSchedulerModule {
  static register(config: RuntimeSchedulerConfig): DynamicModule {
    return {
      module: RuntimeSchedulerModule,
      imports: [
        ServiceRuntimeModule.forService(
          serviceRuntimeOptions(
            RUNTIME_SCHEDULER,
            RUNTIME_SCHEDULER_EVENTS,
            runtimeSchedulerMigrations,
            config,
          ),
        ),
      ],
    };
  }
}
