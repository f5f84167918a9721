import { Global, Module } from '@nestjs/common';
import { MessagingRegistry } from '@palisade/messaging';
import type { Logger } from 'pino';
import { ROOT_LOGGER } from './tokens';

/** Process-wide providers: the root logger and the registry of mounted services. */
@Global()
@Module({})
export class CoreModule {
  static register(logger: Logger) {
    return {
      module: CoreModule,
      providers: [{ provide: ROOT_LOGGER, useValue: logger }, MessagingRegistry],
      exports: [ROOT_LOGGER, MessagingRegistry],
    };
  }
}
