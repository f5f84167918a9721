import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import {
  RUNTIME_SCHEDULER,
  runtimeFailed,
  runtimeSlept,
  runtimeStarted,
  runtimeWakeRequested,
  SECRETS,
  workspaceCreated,
  workspaceDeleted,
  workspaceUpdated,
} from '@palisade/contracts';
import type { EventEnvelope } from '@palisade/contracts';
import { JetStreamEventContext, OnEvent, subscriptionsFor } from '@palisade/messaging';
import type { AnyDatabase } from '@palisade/persistence';
import { sql } from 'kysely';

/** The durable consumer that projects the runtime-scheduler's stream. */
export const RUNTIME_VIEW_CONSUMER = 'runtimes';
export const RUNTIME_VIEW_DURABLE = subscriptionsFor(SECRETS, RUNTIME_VIEW_CONSUMER, RUNTIME_SCHEDULER)[0]
  .durable;
/** Told (NOTIFY, delivered at commit) when the projection moved, so a waiting resolve looks again. */
export const RUNTIME_VIEW_CHANNEL = `palisade_${SECRETS.schema}_runtime_view`;

/** The events that end a runtime's waking window. */
const ENDINGS = new Map([runtimeStarted, runtimeSlept, runtimeFailed].map((d) => [d.type, d]));

/** Names of the manifest's declared inputs, over all its services. */
function declaredInputs(manifest: { services: ReadonlyArray<{ secrets: readonly string[] }> }): string[] {
  return [...new Set(manifest.services.flatMap((s) => s.secrets))].sort();
}

async function upsertWorkspace(
  trx: AnyDatabase,
  sequence: number,
  row: {
    orgId: string;
    workspaceId: string;
    declared: string[];
    devlinkWakeSecrets: boolean;
    deleted: boolean;
  },
) {
  // A late (replayed) event never overwrites a newer one.
  await sql`insert into workspaces (org_id, workspace_id, declared, devlink_wake_secrets, deleted, source_sequence)
    values (${row.orgId}, ${row.workspaceId}, ${row.declared}::text[], ${row.devlinkWakeSecrets}, ${row.deleted}, ${sequence})
    on conflict (org_id, workspace_id) do update set declared = excluded.declared,
      devlink_wake_secrets = excluded.devlink_wake_secrets, deleted = excluded.deleted,
      source_sequence = excluded.source_sequence
    where workspaces.source_sequence < excluded.source_sequence`.execute(trx);
}

/** Applies one runtime-scheduler event to the projection; other events are not secrets' business. */
async function apply(trx: AnyDatabase, envelope: EventEnvelope): Promise<void> {
  const sequence = envelope.sequence;
  switch (envelope.type) {
    case workspaceCreated.type:
    case workspaceUpdated.type: {
      const data = (envelope.type === workspaceCreated.type ? workspaceCreated : workspaceUpdated).data.parse(
        envelope.data,
      );
      await upsertWorkspace(trx, sequence, {
        orgId: data.orgId,
        workspaceId: data.workspaceId,
        declared: declaredInputs(data.manifest),
        devlinkWakeSecrets: data.manifest.devlinkWakeSecrets,
        deleted: false,
      });
      break;
    }
    case workspaceDeleted.type: {
      const data = workspaceDeleted.data.parse(envelope.data);
      await upsertWorkspace(trx, sequence, {
        ...data,
        declared: [],
        devlinkWakeSecrets: false,
        deleted: true,
      });
      break;
    }
    case runtimeWakeRequested.type: {
      const data = runtimeWakeRequested.data.parse(envelope.data);
      // The manifest as of the wake (a change applies at the next wake); a runtime that already
      // ended (its end arrived first, through a replay) stays ended.
      await sql`insert into runtimes (runtime_id, org_id, workspace_id, trigger, state, declared,
                  devlink_wake_secrets, source_sequence)
        select ${data.runtimeId}, ${data.orgId}, ${data.workspaceId}, ${data.trigger}, 'waking',
          coalesce(w.declared, '{}'), coalesce(w.devlink_wake_secrets, false), ${sequence}
        from (select 1) as one
        left join workspaces w on w.org_id = ${data.orgId} and w.workspace_id = ${data.workspaceId}
        on conflict (runtime_id) do nothing`.execute(trx);
      break;
    }
    case runtimeStarted.type:
    case runtimeSlept.type:
    case runtimeFailed.type: {
      const { orgId, workspaceId, runtimeId } = ENDINGS.get(envelope.type)!.data.parse(envelope.data);
      await sql`insert into runtimes (runtime_id, org_id, workspace_id, state, source_sequence)
        values (${runtimeId}, ${orgId}, ${workspaceId}, 'ended', ${sequence})
        on conflict (runtime_id) do update set state = 'ended'`.execute(trx);
      break;
    }
  }
}

/**
 * Secrets' own view of workspaces (declared inputs, devlinkWakeSecrets) and runtimes (waking or
 * not), from the runtime-scheduler's events: a durable consumer with the inbox and the gap check
 * (a lost event is replayed from the producer), so the view is complete up to its watermark in
 * `consumer_positions`, which a resolve's `atLeast` waits for.
 */
@Controller()
export class RuntimeViewConsumer {
  @OnEvent(SECRETS, RUNTIME_VIEW_CONSUMER, RUNTIME_SCHEDULER, { batch: true, gapCheck: true })
  async onEvents(@Payload() events: EventEnvelope[], @Ctx() ctx: JetStreamEventContext): Promise<void> {
    const trx = ctx.trx();
    for (const envelope of events) await apply(trx, envelope);
    // Every batch moves the watermark. A NOTIFY in the transaction is delivered at its commit (it
    // orders this consumer's commits with other notifying ones: none on the event path do).
    await sql`select pg_notify(${RUNTIME_VIEW_CHANNEL}, '')`.execute(trx);
  }
}
