import { DEVLINK } from '@palisade/contracts';
import { defineService } from '@palisade/runtime';
import { devlinkConfigSchema } from './devlink.config';
import { DevlinkModule } from './devlink.module';
import { devlinkMigrations } from '../migrations';

export * from './devlink.config';
export * from './devlink.module';

/** How `palisade dev` and `palisade serve --target devlink` run this service. */
export const devlinkService = defineService({
  context: DEVLINK,
  configSchema: devlinkConfigSchema,
  migrations: devlinkMigrations,
  module: (config) => DevlinkModule.register(config),
});
