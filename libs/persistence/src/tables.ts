import { ColumnType, Generated } from 'kysely';

/** Tables every service schema gets from the persistence library's own migrations. */
export interface PersistenceTables {
  streams: StreamsTable;
  events: EventsTable;
  outbox: OutboxTable;
  sequences: SequencesTable;
  relay_state: RelayStateTable;
  inbox: InboxTable;
  consumer_positions: ConsumerPositionsTable;
  consumer_sequences: ConsumerSequencesTable;
}

export interface StreamsTable {
  stream_id: string;
  version: number;
}

export interface EventsTable {
  position: Generated<number>;
  stream_id: string;
  version: number;
  event_id: string;
  type: string;
  org_id: string;
  /** The NATS subject the event is published on. */
  subject: string;
  /** The CloudEvents envelope without `sequence` (in `sequences`; added when published). */
  envelope: ColumnType<Record<string, unknown>, string, never>;
  traceparent: string | null;
  recorded_at: ColumnType<Date, never, never>;
}

/** Events of an open transaction, given their producer sequence as it commits. */
export interface OutboxTable {
  position: number;
}

/** The producer's gap-free order of its events (append-only). */
export interface SequencesTable {
  sequence: number;
  position: number;
}

export interface RelayStateTable {
  id: ColumnType<boolean, never, never>;
  last_sequence: number;
  published_through: number;
}

export interface InboxTable {
  consumer: string;
  event_id: string;
  processed_at: ColumnType<Date, never, never>;
}

export interface ConsumerPositionsTable {
  consumer: string;
  producer: string;
  last_sequence: number;
}

export interface ConsumerSequencesTable {
  consumer: string;
  producer: string;
  sequence: number;
}
