import { ContextConstants, EventEnvelope, replaySubject } from '@palisade/contracts';
import { AnyDatabase, headSequence, readBySequence } from '@palisade/persistence';
import { NatsConnection, Subscription } from 'nats';
import { z } from 'zod';
import { describeError, MessagingLogger, silentLogger } from './logger';

/**
 * Replay over request/reply (`replay.<context>`): a consumer that missed events asks the
 * producer, whose Postgres event store is the source of truth, for a range by sequence.
 */

export const MAX_REPLAY_BATCH = 1_000;

export const replayRequestSchema = z
  .object({
    from: z.int().min(1),
    to: z.int().min(1).optional(),
    limit: z.int().min(1).max(MAX_REPLAY_BATCH).default(MAX_REPLAY_BATCH),
  })
  .refine((r) => r.to === undefined || r.to >= r.from, { message: 'to must be >= from' });
export type ReplayRequest = z.input<typeof replayRequestSchema>;

export interface ReplayResponse {
  /** Events with from <= sequence <= to, in sequence order, at most `limit`. */
  events: EventEnvelope[];
  /** The producer's last assigned sequence. */
  head: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Serves `replay.<context>` from the service's event store (queue group: one replica answers). */
export function serveReplay(
  nc: NatsConnection,
  context: ContextConstants,
  db: AnyDatabase,
  logger: MessagingLogger = silentLogger,
): Subscription {
  return nc.subscribe(context.replaySubject, {
    queue: `${context.context}-replay`,
    callback: (error, msg) => {
      if (error) return;
      void (async () => {
        let body: unknown;
        try {
          const parsed = replayRequestSchema.safeParse(JSON.parse(decoder.decode(msg.data)));
          if (!parsed.success) {
            body = {
              error: {
                code: 'invalid_replay_request',
                message: parsed.error.issues.map((i) => i.message).join('; '),
              },
            };
          } else {
            const { from, limit } = parsed.data;
            const to = parsed.data.to ?? from + limit - 1;
            const [publications, head] = await Promise.all([
              readBySequence(db, from, to, limit),
              headSequence(db),
            ]);
            // The stored JSON texts are spliced in as they are.
            msg.respond(
              encoder.encode(`{"events":[${publications.map((p) => p.json).join(',')}],"head":${head}}`),
            );
            return;
          }
        } catch (e) {
          logger.warn({ context: context.context, err: describeError(e) }, 'replay request failed');
          body = {
            error: {
              code: e instanceof SyntaxError ? 'invalid_replay_request' : 'replay_failed',
              message: 'replay failed',
            },
          };
        }
        msg.respond(encoder.encode(JSON.stringify(body)));
      })();
    },
  });
}

export class ReplayError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ReplayError';
  }
}

/** Asks a producer for a range of its events. */
export async function requestReplay(
  nc: NatsConnection,
  context: string,
  request: ReplayRequest,
  timeoutMs = 5_000,
): Promise<{ events: unknown[]; head: number }> {
  const reply = await nc.request(replaySubject(context), encoder.encode(JSON.stringify(request)), {
    timeout: timeoutMs,
  });
  const body = JSON.parse(decoder.decode(reply.data)) as {
    events?: unknown[];
    head?: number;
    error?: { code: string; message: string };
  };
  if (body.error) throw new ReplayError(body.error.code, body.error.message);
  if (!Array.isArray(body.events) || typeof body.head !== 'number')
    throw new ReplayError('invalid_replay_response', 'malformed replay response');
  return { events: body.events, head: body.head };
}
