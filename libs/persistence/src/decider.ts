import { Decider, fold } from '@palisade/domain';
import { DomainEvent, EventMetadata, EventStore, StoredEvent } from './event-store';
import { ConcurrencyConflictError } from './errors';
import { AnyDatabase } from './database';

// The decider shape is the domain's (framework-free); the write path below runs it.
export type { Decider } from '@palisade/domain';
export { fold } from '@palisade/domain';

export interface ExecuteCommandRequest<S, C, E extends DomainEvent, Db extends AnyDatabase = AnyDatabase> {
  streamId: string;
  decider: Decider<S, C, E>;
  command: C;
  metadata: EventMetadata;
  subject?: string;
  /** Update projections from the new events, in the same transaction. */
  project?: (trx: Db, events: StoredEvent<E>[], state: S) => Promise<void>;
  /**
   * How many times to re-load and re-decide after losing a race (default 0: the caller gets
   * the ConcurrencyConflictError). Re-deciding on fresh state is the point of optimistic concurrency.
   */
  conflictRetries?: number;
}

export interface CommandResult<S, E extends DomainEvent> {
  events: StoredEvent<E>[];
  state: S;
  version: number;
}

/**
 * The write path: load the aggregate, decide, then append the events with their outbox rows and,
 * when the command has projections, update them in the same transaction. Without projections the
 * append is a single statement and commits alone: optimistic concurrency (the stream version
 * checked in that statement) is what keeps writers apart, not a transaction around the load.
 */
export async function executeCommand<S, C, E extends DomainEvent, Db extends AnyDatabase>(
  db: Db,
  store: EventStore,
  request: ExecuteCommandRequest<S, C, E, Db>,
): Promise<CommandResult<S, E>> {
  for (let attempt = 0; ; attempt++) {
    try {
      const history = await store.readStream<E>(db, request.streamId);
      const state = fold(
        request.decider,
        history.map((stored) => stored.event),
      );
      const decided = request.decider.decide(state, request.command);
      const next = decided.reduce((s, e) => request.decider.evolve(s, e), state);
      const version = history.length;
      if (decided.length === 0) return { events: [], state, version };
      const append = (target: AnyDatabase) =>
        store.append(target, {
          streamId: request.streamId,
          expectedVersion: version,
          events: decided,
          metadata: request.metadata,
          subject: request.subject,
        });
      let stored: StoredEvent<E>[];
      if (request.project) {
        const project = request.project;
        let transaction: AnyDatabase | undefined;
        stored = await db.transaction().execute(async (trx) => {
          transaction = trx;
          const appended = await append(trx);
          await project(trx as unknown as Db, appended, next);
          return appended;
        });
        store.afterCommit(transaction!);
      } else {
        // Outside a transaction the append commits on its own and hands its events to the relay.
        stored = await append(db);
      }
      return { events: stored, state: next, version: version + stored.length };
    } catch (error) {
      if (!(error instanceof ConcurrencyConflictError) || attempt >= (request.conflictRetries ?? 0))
        throw error;
    }
  }
}
