import { DynamicModule, Module } from '@nestjs/common';
import { PLACEMENT, PLACEMENT_EVENTS } from '@palisade/contracts';
import { ServiceRuntimeModule, serviceRuntimeOptions } from '@palisade/runtime';
import { placementMigrations } from '../migrations';
import { PlacementConfig } from './placement.config';

/** The placement service's root module: mounted by its own main.ts and by `palisade dev` / `serve`. */
@Module({})
export class PlacementModule {
  static register(config: PlacementConfig): DynamicModule {
    return {
      module: PlacementModule,
      imports: [
        ServiceRuntimeModule.forService(
          serviceRuntimeOptions(PLACEMENT, PLACEMENT_EVENTS, placementMigrations, config),
        ),
      ],
    };
  }
}
