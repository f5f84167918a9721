import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { AUDIT, EventEnvelope } from '@palisade/contracts';
import { JetStreamEventContext, OnEvent } from '@palisade/messaging';
import { AuditLogService } from '../log/audit-log.service';

/**
 * Every event of every context (one durable consumer per EVT_* stream, `audit-log-<context>`),
 * appended to the audit log in the consumer's transaction: the inbox makes each event land once,
 * and the gap check replays from the producer what the transport lost.
 */
@Controller()
export class AuditLogConsumer {
  constructor(private readonly log: AuditLogService) {}

  @OnEvent(AUDIT, 'log', 'all', { batch: true, gapCheck: true, acceptUnknownTypes: true, batchSize: 256 })
  async onEvents(@Payload() events: EventEnvelope[], @Ctx() ctx: JetStreamEventContext): Promise<void> {
    await this.log.append(ctx.trx(), events);
  }
}
