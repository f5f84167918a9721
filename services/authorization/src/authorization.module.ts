import { DynamicModule, Module } from '@nestjs/common';
import { PERMISSION_CHECKER, serviceAccessTokenProviders } from '@palisade/auth';
import type { PermissionChecker } from '@palisade/auth';
import { AUTHORIZATION, AUTHORIZATION_EVENTS } from '@palisade/contracts';
import type { Clock } from '@palisade/domain';
import { CLOCK, ServiceRuntimeModule, serviceRuntimeOptions } from '@palisade/runtime';
import { authorizationMigrations } from '../migrations';
import { AuthorizationConfig } from './authorization.config';
import { ElevationSweeper } from './commands/elevation.sweeper';
import { OrganizationCommands } from './commands/organization.commands';
import { AuthorizationController } from './http/authorization.controller';
import { AuthzViewProjection } from './projections/authz-view.projection';
import { AuthzRpcHandlers } from './rpc/authz.rpc';

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
      controllers: [AuthzRpcHandlers, AuthorizationController],
      providers: [
        AuthzViewProjection,
        OrganizationCommands,
        ElevationSweeper,
        // Who calls (JWKS and revocations from identity over NATS); what they may do is ours,
        // decided from our own view.
        ...serviceAccessTokenProviders(config, {
          permissions: {
            provide: PERMISSION_CHECKER,
            inject: [AuthzViewProjection, CLOCK],
            useFactory: (projection: AuthzViewProjection, clock: Clock): PermissionChecker => ({
              check: (check) => projection.checkCommitted(check, clock.now()),
            }),
          },
        }),
      ],
      exports: [AuthzViewProjection, OrganizationCommands],
    };
  }
}
