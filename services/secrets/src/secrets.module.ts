import { DynamicModule, Module } from '@nestjs/common';
import { serviceAccessTokenProviders } from '@palisade/auth';
import { SECRETS, SECRETS_EVENTS } from '@palisade/contracts';
import { ServiceRuntimeModule, serviceRuntimeOptions } from '@palisade/runtime';
import { secretsMigrations } from '../migrations';
import { secretBackendProviders } from './backends/backend.provider';
import { ResolveCommands } from './commands/resolve.commands';
import { SecretCommands } from './commands/secret.commands';
import { SecretsController } from './http/secrets.controller';
import { RuntimeViewConsumer } from './projections/runtime-view.consumer';
import { RuntimeViewPosition } from './projections/runtime-view.position';
import { SecretQueries } from './queries/secret.queries';
import { SecretsRpcHandlers } from './rpc/secrets.rpc';
import { SecretsConfig } from './secrets.config';

/** The secrets service's root module: mounted by its own main.ts and by `palisade dev` / `serve`. */
@Module({})
export class SecretsModule {
  static register(config: SecretsConfig): DynamicModule {
    return {
      module: SecretsModule,
      imports: [
        ServiceRuntimeModule.forService(
          serviceRuntimeOptions(SECRETS, SECRETS_EVENTS, secretsMigrations, config),
        ),
      ],
      controllers: [RuntimeViewConsumer, SecretsRpcHandlers, SecretsController],
      providers: [
        ...secretBackendProviders(),
        RuntimeViewPosition,
        SecretCommands,
        ResolveCommands,
        SecretQueries,
        // Who calls (JWKS and revocations from identity over NATS); what they may do is authorization's.
        ...serviceAccessTokenProviders(config),
      ],
      exports: [SecretCommands, ResolveCommands, SecretQueries],
    };
  }
}
