import { DynamicModule, Module } from '@nestjs/common';
import { DEVLINK, DEVLINK_EVENTS } from '@palisade/contracts';
import { ServiceRuntimeModule, serviceRuntimeOptions } from '@palisade/runtime';
import { devlinkMigrations } from '../migrations';
import { DevlinkConfig } from './devlink.config';

/** The devlink service's root module: mounted by its own main.ts and by `palisade dev` / `serve`. */
@Module({})
export class DevlinkModule {
  static register(config: DevlinkConfig): DynamicModule {
    return {
      module: DevlinkModule,
      imports: [
        ServiceRuntimeModule.forService(
          serviceRuntimeOptions(DEVLINK, DEVLINK_EVENTS, devlinkMigrations, config),
        ),
      ],
    };
  }
}
