import { SECRETS } from '@palisade/contracts';
import { defineService } from '@palisade/runtime';
import { secretsConfigSchema } from './secrets.config';
import { SecretsModule } from './secrets.module';
import { secretsMigrations } from '../migrations';

export * from './secrets.config';
export * from './secrets.module';

/** How `palisade dev` and `palisade serve --target secrets` run this service. */
export const secretsService = defineService({
  context: SECRETS,
  configSchema: secretsConfigSchema,
  migrations: secretsMigrations,
  module: (config) => SecretsModule.register(config),
});
