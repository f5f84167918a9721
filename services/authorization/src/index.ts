import { AUTHORIZATION } from '@palisade/contracts';
import { defineService } from '@palisade/runtime';
import { authorizationConfigSchema } from './authorization.config';
import { AuthorizationModule } from './authorization.module';
import { authorizationMigrations } from '../migrations';

export * from './authorization.config';
export * from './authorization.module';

/** How `palisade dev` and `palisade serve --target authorization` run this service. */
export const authorizationService = defineService({
  context: AUTHORIZATION,
  configSchema: authorizationConfigSchema,
  migrations: authorizationMigrations,
  module: (config) => AuthorizationModule.register(config),
});
