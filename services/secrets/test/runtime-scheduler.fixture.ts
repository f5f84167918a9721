import { randomUUID } from 'node:crypto';
import { DynamicModule, Injectable, Module } from '@nestjs/common';
import { serviceConfigSchema } from '@palisade/config';
import { RUNTIME_SCHEDULER, RUNTIME_SCHEDULER_EVENTS } from '@palisade/contracts';
import type { RuntimeSchedulerEvent, WorkspaceManifest } from '@palisade/contracts';
import type { StoredEvent } from '@palisade/persistence';
import {
  defineService,
  ServiceRuntime,
  ServiceRuntimeModule,
  serviceRuntimeOptions,
} from '@palisade/runtime';
import type { INestApplication } from '@nestjs/common';
import { sql } from 'kysely';

/** A manifest with one service declaring `secrets`. */
export function manifest(secrets: string[], devlinkWakeSecrets = false): WorkspaceManifest {
  return {
    services: [
      {
        name: 'app',
        image: 'palisade-test/busybox:1',
        port: 8080,
        env: {},
        secrets,
        limits: { cpuMillis: 500, memoryBytes: 64 * 1024 * 1024, pids: 64 },
      },
    ],
    idle: { timeoutSeconds: 600, activity: ['devlink'] },
    devlinkWakeSecrets,
  };
}

/**
 * The runtime-scheduler as secrets sees it, for tests: the real RUNTIME_SCHEDULER context with its
 * contract's events, appended to its own event store and published by its outbox relay (replay
 * endpoint included), exactly as the real producer will. It decides nothing: each method appends
 * the event a real scheduler would, and answers with the event's producer sequence.
 */
@Injectable()
export class RuntimeSchedulerStandIn {
  constructor(private readonly runtime: ServiceRuntime) {}

  private async append(streamId: string, orgId: string, event: RuntimeSchedulerEvent): Promise<number> {
    const [stored]: StoredEvent[] = await this.runtime.store.append(this.runtime.db, {
      streamId,
      expectedVersion: 'any',
      events: [event],
      metadata: { orgId, actor: 'user:scheduler-test' },
    });
    const { rows } = await sql<{ sequence: number }>`
      select s.sequence from sequences s join events e on e.position = s.position
      where e.event_id = ${stored.envelope.id}`.execute(this.runtime.db);
    return Number(rows[0].sequence);
  }

  /** workspace.created (or .updated when `update`) with these declared inputs. */
  workspace(
    orgId: string,
    workspaceId: string,
    secrets: string[],
    options: { devlinkWakeSecrets?: boolean; update?: boolean } = {},
  ) {
    const data = { orgId, workspaceId, manifest: manifest(secrets, options.devlinkWakeSecrets) };
    return this.append(
      `workspace/${orgId}/${workspaceId}`,
      orgId,
      options.update
        ? { type: 'workspace.updated', data: { ...data, updatedBy: 'olga' } }
        : { type: 'workspace.created', data: { ...data, createdBy: 'olga' } },
    );
  }

  deleteWorkspace(orgId: string, workspaceId: string) {
    return this.append(`workspace/${orgId}/${workspaceId}`, orgId, {
      type: 'workspace.deleted',
      data: { orgId, workspaceId, deletedBy: 'olga' },
    });
  }

  /** runtime.wake_requested: a new runtime id and the sequence to pass as `atLeast`. */
  async wake(orgId: string, workspaceId: string, trigger: 'api' | 'devlink' = 'api') {
    const runtimeId = randomUUID();
    const sequence = await this.append(`workspace/${orgId}/${workspaceId}`, orgId, {
      type: 'runtime.wake_requested',
      data: {
        orgId,
        workspaceId,
        runtimeId,
        trigger,
        requestedBy: trigger === 'api' ? 'olga' : 'devlink:link-1',
        requestedAt: new Date().toISOString(),
      },
    });
    return { runtimeId, sequence };
  }

  started(orgId: string, workspaceId: string, runtimeId: string) {
    const now = new Date();
    return this.append(`workspace/${orgId}/${workspaceId}`, orgId, {
      type: 'runtime.started',
      data: {
        orgId,
        workspaceId,
        runtimeId,
        hostId: 'host-1',
        services: ['app'],
        startedAt: now.toISOString(),
        idleDeadline: new Date(now.getTime() + 600_000).toISOString(),
      },
    });
  }

  failed(orgId: string, workspaceId: string, runtimeId: string, reason = 'wake_timeout') {
    return this.append(`workspace/${orgId}/${workspaceId}`, orgId, {
      type: 'runtime.failed',
      data: { orgId, workspaceId, runtimeId, reason, failedAt: new Date().toISOString() },
    });
  }
}

@Module({})
class RuntimeSchedulerStandInModule {
  static register(config: Record<string, unknown>): DynamicModule {
    return {
      module: RuntimeSchedulerStandInModule,
      imports: [
        ServiceRuntimeModule.forService(
          serviceRuntimeOptions(RUNTIME_SCHEDULER, RUNTIME_SCHEDULER_EVENTS, {}, config),
        ),
      ],
      providers: [RuntimeSchedulerStandIn],
      exports: [RuntimeSchedulerStandIn],
    };
  }
}

/** The stand-in as a service for startPalisade (beside the real secrets service). */
export const runtimeSchedulerStandIn = defineService({
  context: RUNTIME_SCHEDULER,
  configSchema: serviceConfigSchema(RUNTIME_SCHEDULER.context, {}),
  migrations: {},
  module: (config) => RuntimeSchedulerStandInModule.register(config),
});

export function schedulerOf(app: INestApplication): RuntimeSchedulerStandIn {
  return app.get(RuntimeSchedulerStandIn, { strict: false });
}
