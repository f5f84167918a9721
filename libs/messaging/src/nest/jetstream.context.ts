import { EventEnvelope } from '@palisade/contracts';
import { AnyDatabase, PersistenceTables } from '@palisade/persistence';
import { BaseRpcContext } from '@nestjs/microservices';
import { Kysely } from 'kysely';
import { Msg } from 'nats';

type EventArgs = [trx: AnyDatabase, envelope: EventEnvelope, deliveryCount: number, consumer: string];

/** `@Ctx()` of an event handler: the owner's transaction and the delivery. */
export class JetStreamEventContext extends BaseRpcContext<EventArgs> {
  /** The owner's transaction: write effects through it (they commit with the inbox row). */
  trx<T = object>(): Kysely<T & PersistenceTables> {
    return this.args[0] as unknown as Kysely<T & PersistenceTables>;
  }
  envelope(): EventEnvelope {
    return this.args[1];
  }
  deliveryCount(): number {
    return this.args[2];
  }
  consumer(): string {
    return this.args[3];
  }
}

/** `@Ctx()` of a request handler. */
export class NatsRequestContext extends BaseRpcContext<[msg: Msg]> {
  subject(): string {
    return this.args[0].subject;
  }
  headers(): Msg['headers'] {
    return this.args[0].headers;
  }
}
