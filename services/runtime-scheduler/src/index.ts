import { RUNTIME_SCHEDULER } from '@palisade/contracts';
import { defineService } from '@palisade/runtime';
import { runtimeSchedulerConfigSchema } from './runtime-scheduler.config';
import { RuntimeSchedulerModule } from './runtime-scheduler.module';
import { runtimeSchedulerMigrations } from '../migrations';

export * from './runtime-scheduler.config';
export * from './runtime-scheduler.module';

/** How `palisade dev` and `palisade serve --target runtime-scheduler` run this service. */
export const runtimeSchedulerService = defineService({
  context: RUNTIME_SCHEDULER,
  configSchema: runtimeSchedulerConfigSchema,
  migrations: runtimeSchedulerMigrations,
  module: (config) => RuntimeSchedulerModule.register(config),
});
