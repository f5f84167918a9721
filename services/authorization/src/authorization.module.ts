import { DynamicModule, Module } from '@nestjs/common';
import { AUTHORIZATION, AUTHORIZATION_EVENTS } from '@palisade/contracts';
import { ServiceRuntimeModule, serviceRuntimeOptions } from '@palisade/runtime';
import { authorizationMigrations } from '../migrations';
import { AuthorizationConfig } from './authorization.config';

/** The authorization service's root module: mounted by its own main.ts and by `palisade dev` / `serve`. */
@Module({})
export class AuthorizationModule {
  static register(config: AuthorizationConfig): DynamicModule {
    return {
      module: AuthorizationModule,
      imports: [
        ServiceRuntimeModule.forService(
          serviceRuntimeOptions(AUTHORIZATION, AUTHORIZATION_EVENTS, authorizationMigrations, config),
        ),
      ],
    };
  }
}
