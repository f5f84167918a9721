import { DynamicModule, Module } from '@nestjs/common';
import { SECRETS, SECRETS_EVENTS } from '@palisade/contracts';
import { ServiceRuntimeModule, serviceRuntimeOptions } from '@palisade/runtime';
import { secretsMigrations } from '../migrations';
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
    };
  }
}
