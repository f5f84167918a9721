import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { PLACEMENT, runtimeFailed, runtimeSlept } from '@palisade/contracts';
import type { EventEnvelope } from '@palisade/contracts';
import { OnEvent } from '@palisade/messaging';
import { PlacementCommands } from '../commands/placement.commands';

type Ended = EventEnvelope<{ runtimeId: string }>;

/**
 * A runtime that slept or failed gives its place back (runtime-scheduler's runtime.slept and
 * runtime.failed, durable consumers). Giving a place back is idempotent (a second time finds no
 * placement and writes nothing), so the effect is written on the host's own stream rather than
 * in the inbox's transaction, with the same optimistic concurrency as every host command.
 */
@Controller()
export class RuntimeEndedConsumer {
  constructor(private readonly placements: PlacementCommands) {}

  @OnEvent(PLACEMENT, 'runtime-slept', runtimeSlept)
  async onSlept(@Payload() event: Ended): Promise<void> {
    await this.placements.unplace(event.data.runtimeId, 'slept', 'system');
  }

  @OnEvent(PLACEMENT, 'runtime-failed', runtimeFailed)
  async onFailed(@Payload() event: Ended): Promise<void> {
    await this.placements.unplace(event.data.runtimeId, 'failed', 'system');
  }
}
