import { randomBytes } from 'node:crypto';
import { Body, Controller, DynamicModule, Get, Inject, Module, Post } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { serviceConfigSchema } from '@palisade/config';
import { contextConstants, defineEvent } from '@palisade/contracts';
import type { EventEnvelope } from '@palisade/contracts';
import { JetStreamEventContext, OnEvent, OnRequest, rpcSubject } from '@palisade/messaging';
import { executeCommand } from '@palisade/persistence';
import type { AnyDatabase } from '@palisade/persistence';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Clock } from '@palisade/domain';
import {
  apiError,
  CLOCK,
  defineService,
  SERVICE_CONFIG,
  SERVICE_DATABASE,
  ServiceRuntime,
  ServiceRuntimeModule,
  serviceRuntimeOptions,
} from '../src';

/**
 * Two throwaway services for runtime tests: "notes" takes HTTP commands and emits note.added;
 * "reader" projects them through @OnEvent and answers counts through @OnRequest.
 */
export function notesServices() {
  const suffix = randomBytes(4).toString('hex');
  const notes = contextConstants(`notes${suffix}`);
  const reader = contextConstants(`reader${suffix}`);
  const noteAdded = defineEvent({
    context: notes.context,
    entity: 'note',
    verb: 'added',
    description: 'a note was added',
    data: z.object({ noteId: z.string(), text: z.string().max(200) }).strict(),
  });
  const addNoteBody = z
    .object({ noteId: z.string().regex(/^[a-z0-9-]{1,40}$/), text: z.string().min(1).max(200) })
    .strict();
  const decider = {
    initialState: { exists: false },
    decide: (state: { exists: boolean }, command: z.infer<typeof addNoteBody>) => {
      if (state.exists) throw apiError(409, 'note_exists', `note ${command.noteId} exists already`);
      return [{ type: 'note.added' as const, data: command }];
    },
    evolve: () => ({ exists: true }),
  };

  @Controller('v1/notes')
  class NotesController {
    constructor(
      private readonly runtime: ServiceRuntime,
      @Inject(CLOCK) private readonly clock: Clock,
      @Inject(SERVICE_CONFIG) private readonly config: { HTTP_PORT: number },
    ) {}

    /** What the service's CLOCK and SERVICE_CONFIG resolve to. */
    @Get('edge')
    edge() {
      return { now: this.clock.now(), httpPort: this.config.HTTP_PORT };
    }

    @Post()
    async add(@Body() body: unknown) {
      const parsed = addNoteBody.safeParse(body);
      if (!parsed.success)
        throw apiError(400, 'invalid_note', 'a note needs noteId (a-z, 0-9, -) and text (1..200 characters)');
      const result = await executeCommand(this.runtime.db, this.runtime.store, {
        streamId: `note/${parsed.data.noteId}`,
        decider,
        command: parsed.data,
        metadata: { orgId: 'org-n', actor: 'user:tester' },
      });
      return { eventId: result.events[0].envelope.id };
    }
  }

  class ReaderHandlers {
    constructor(@Inject(SERVICE_DATABASE) private readonly db: AnyDatabase) {}

    @OnEvent(reader, 'notes', noteAdded)
    async onNoteAdded(
      @Payload() event: EventEnvelope<{ noteId: string; text: string }>,
      @Ctx() ctx: JetStreamEventContext,
    ) {
      await sql`insert into seen_notes (note_id, text, event_id) values (${event.data.noteId}, ${event.data.text}, ${event.id})`.execute(
        ctx.trx(),
      );
    }

    @OnRequest(reader, rpcSubject(reader, 'count'))
    async count(@Payload() body: unknown) {
      const query = z
        .object({ prefix: z.string().max(40) })
        .strict()
        .safeParse(body);
      if (!query.success) return { error: { code: 'invalid_query', message: 'send { prefix }' } };
      const { rows } = await sql<{
        n: number;
      }>`select count(*)::int8 as n from seen_notes where note_id like ${query.data.prefix + '%'}`.execute(
        this.db,
      );
      return { count: rows[0].n };
    }
  }
  Controller()(ReaderHandlers);

  const configSchema = (name: string) => serviceConfigSchema(name, {});
  @Module({})
  class NotesModule {
    static register(config: Record<string, unknown>): DynamicModule {
      return {
        module: NotesModule,
        imports: [ServiceRuntimeModule.forService(serviceRuntimeOptions(notes, [noteAdded], {}, config))],
        controllers: [NotesController],
      };
    }
  }
  const migrations = {
    '202611230200_seen_notes': {
      async up(db: AnyDatabase) {
        await sql`create table seen_notes (note_id text primary key, text text not null, event_id uuid not null)`.execute(
          db,
        );
      },
    },
  };
  @Module({})
  class ReaderModule {
    static register(config: Record<string, unknown>): DynamicModule {
      return {
        module: ReaderModule,
        imports: [ServiceRuntimeModule.forService(serviceRuntimeOptions(reader, [], migrations, config))],
        controllers: [ReaderHandlers],
      };
    }
  }
  return {
    notes,
    reader,
    noteAdded,
    services: [
      defineService({
        context: notes,
        configSchema: configSchema(notes.context),
        migrations: {},
        module: (c) => NotesModule.register(c),
      }),
      defineService({
        context: reader,
        configSchema: configSchema(reader.context),
        migrations,
        module: (c) => ReaderModule.register(c),
      }),
    ],
  };
}
