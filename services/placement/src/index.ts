import { PLACEMENT } from '@palisade/contracts';
import { defineService } from '@palisade/runtime';
import { placementConfigSchema } from './placement.config';
import { PlacementModule } from './placement.module';
import { placementMigrations } from '../migrations';

export * from './placement.config';
export * from './placement.module';

/** How `palisade dev` and `palisade serve --target placement` run this service. */
export const placementService = defineService({
  context: PLACEMENT,
  configSchema: placementConfigSchema,
  migrations: placementMigrations,
  module: (config) => PlacementModule.register(config),
});
