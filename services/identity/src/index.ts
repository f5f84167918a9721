import { IDENTITY } from '@palisade/contracts';
import { defineService } from '@palisade/runtime';
import { identityConfigSchema } from './identity.config';
import { IdentityModule } from './identity.module';
import { identityMigrations } from '../migrations';

export * from './identity.config';
export * from './identity.module';

/** How `palisade dev` and `palisade serve --target identity` run this service. */
export const identityService = defineService({
  context: IDENTITY,
  configSchema: identityConfigSchema,
  migrations: identityMigrations,
  module: (config) => IdentityModule.register(config),
});
