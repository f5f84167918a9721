import { Body, Controller, DynamicModule, Module, Post } from '@nestjs/common';
import { serviceConfigSchema } from '@palisade/config';
import { ContextConstants, defineEvent } from '@palisade/contracts';
import { executeCommand } from '@palisade/persistence';
import {
  apiError,
  defineService,
  ServiceRuntime,
  ServiceRuntimeModule,
  serviceRuntimeOptions,
} from '@palisade/runtime';
import { z } from 'zod';

/**
 * A stand-in producer for the audit tests: it runs on a real context's stream (e.g. identity's)
 * and emits `probe.emitted` events through the real event store, outbox relay and replay
 * endpoint, so the audit service sees exactly what it would see from that service.
 */
export function probeService(context: ContextConstants) {
  const probeEmitted = defineEvent({
    context: context.context,
    entity: 'probe',
    verb: 'emitted',
    description: 'a test probe',
    data: z.object({ probeId: z.string(), note: z.string().max(2000) }).strict(),
  });
  const body = z
    .object({
      probeId: z.string().regex(/^[a-z0-9-]{1,60}$/),
      orgId: z.string().regex(/^[a-z0-9-]{1,60}$/),
      actor: z.string().default('user:probe'),
      note: z.string().max(2000).default(''),
      count: z.int().min(1).max(1000).default(1),
    })
    .strict();

  @Controller(`v1/probes/${context.context}`)
  class ProbeController {
    constructor(private readonly runtime: ServiceRuntime) {}

    @Post()
    async emit(@Body() input: unknown) {
      const parsed = body.safeParse(input);
      if (!parsed.success) throw apiError(400, 'invalid_probe', 'a probe needs probeId and orgId');
      const { probeId, orgId, actor, note, count } = parsed.data;
      const result = await executeCommand(this.runtime.db, this.runtime.store, {
        streamId: `probe/${probeId}`,
        decider: {
          initialState: null,
          decide: () =>
            Array.from({ length: count }, () => ({
              type: 'probe.emitted' as const,
              data: { probeId, note },
            })),
          evolve: () => null,
        },
        command: {},
        metadata: { orgId, actor },
      });
      return { eventId: result.events[0].envelope.id, eventIds: result.events.map((e) => e.envelope.id) };
    }
  }

  @Module({})
  class ProbeModule {
    static register(config: Record<string, unknown>): DynamicModule {
      return {
        module: ProbeModule,
        imports: [
          ServiceRuntimeModule.forService(serviceRuntimeOptions(context, [probeEmitted], {}, config)),
        ],
        controllers: [ProbeController],
      };
    }
  }
  return {
    probeEmitted,
    service: defineService({
      context,
      configSchema: serviceConfigSchema(context.context, {}),
      migrations: {},
      module: (config) => ProbeModule.register(config),
    }),
  };
}
