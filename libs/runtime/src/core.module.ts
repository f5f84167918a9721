import { Global, Module } from '@nestjs/common';
import type { Clock } from '@palisade/domain';
import { systemClock } from '@palisade/domain';
import { MessagingRegistry } from '@palisade/messaging';
import type { Logger } from 'pino';
import { CLOCK, ROOT_LOGGER } from './tokens';

/** Process-wide providers: the root logger, the clock and the registry of mounted services. */
@Global()
@Module({})
export class CoreModule {
  static register(logger: Logger, clock: Clock = systemClock) {
    return {
      module: CoreModule,
      providers: [
        { provide: ROOT_LOGGER, useValue: logger },
        { provide: CLOCK, useValue: clock },
        MessagingRegistry,
      ],
      exports: [ROOT_LOGGER, CLOCK, MessagingRegistry],
    };
  }
}
