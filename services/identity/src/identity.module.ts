import { DynamicModule, Module } from '@nestjs/common';
import { IDENTITY, IDENTITY_EVENTS } from '@palisade/contracts';
import { ServiceRuntimeModule, serviceRuntimeOptions } from '@palisade/runtime';
import { identityMigrations } from '../migrations';
import { IdentityConfig } from './identity.config';

/** The identity service's root module: mounted by its own main.ts and by `palisade dev` / `serve`. */
@Module({})
export class IdentityModule {
  static register(config: IdentityConfig): DynamicModule {
    return {
      module: IdentityModule,
      imports: [
        ServiceRuntimeModule.forService(
          serviceRuntimeOptions(IDENTITY, IDENTITY_EVENTS, identityMigrations, config),
        ),
      ],
    };
  }
}
