import { createPublicKey } from 'node:crypto';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import { AUDIT, IDENTITY, PLACEMENT } from '@palisade/contracts';
import { createDatabase, ServiceDatabase } from '@palisade/persistence';
import { defineService, RunningPalisade, serviceLogins, startPalisade } from '@palisade/runtime';
import { privateNats, testDatabase, waitFor } from '@palisade/testing';
import { AuditEdgeOverrides, AuditModule, auditConfigSchema, auditService } from '../src';
import { AuditLogService } from '../src/log/audit-log.service';
import { loadSigningKey } from '../src/log/signing-key';
import { keyRing, verifyLog } from '../src/domain';
import { readCheckpoints, readEntries } from '../src/log/audit-log.repository';
import { probeService } from './probe.fixture';

/** What the audit integration tests share: a private NATS, a fresh database, producers and the audit service. */
export async function startAuditHarness(
  env: Record<string, string> = {},
  options: { audit?: boolean; edge?: AuditEdgeOverrides; logger?: Logger } = {},
) {
  const nats = await privateNats();
  const database = await testDatabase();
  const identity = probeService(IDENTITY);
  const placement = probeService(PLACEMENT);
  const audit = options.edge
    ? defineService({
        context: AUDIT,
        configSchema: auditConfigSchema,
        migrations: auditService.migrations,
        schemaRoles: auditService.schemaRoles,
        module: (config) => AuditModule.register(config, options.edge),
      })
    : auditService;
  const services = [identity.service, placement.service, ...(options.audit === false ? [] : [audit])];
  // Audit's schema is migrated (and its login made) even when the test starts audit itself later.
  const baseEnv = {
    ...(await serviceLogins(database.url, database.name).serviceEnv([
      identity.service,
      placement.service,
      audit,
    ])),
    NATS_URL: nats.url,
    HTTP_PORT: '0',
    LOG_LEVEL: 'silent',
    AUDIT_CHECKPOINT_EVERY: '10',
    AUDIT_CHECKPOINT_INTERVAL_MS: '300',
    ...env,
  };
  const running: RunningPalisade = await startPalisade({
    services,
    env: baseEnv,
    logger: options.logger,
  });
  const db: ServiceDatabase = createDatabase({ url: database.url, schema: AUDIT.schema, poolSize: 3 });
  const log = options.audit === false ? undefined : running.app.get(AuditLogService, { strict: false });
  let probes = 0;
  /** Emits `count` probe events in one command; resolves with their ids. */
  async function emitMany(producer: 'identity' | 'placement', orgId: string, count: number, note = '') {
    const response = await fetch(`${running.url}/v1/probes/${producer}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ probeId: `p-${producer}-${++probes}`, orgId, note, count }),
    });
    if (response.status !== 201) throw new Error(`probe failed: ${response.status} ${await response.text()}`);
    return ((await response.json()) as { eventIds: string[] }).eventIds;
  }
  return {
    nats,
    database,
    running,
    db,
    log,
    env: baseEnv,
    /** Emits one probe event from a producer; resolves with its event id. */
    async emit(producer: 'identity' | 'placement', orgId: string, note = ''): Promise<string> {
      return (await emitMany(producer, orgId, 1, note))[0];
    },
    emitMany,
    /**
     * Emits `count` probe events, then waits until they are in the log and the log is at rest:
     * each call leaves at least one checkpoint, however the consumers batch the entries (the
     * log signs at most one checkpoint per appended batch).
     */
    async emitCheckpointed(producer: 'identity' | 'placement', orgId: string, count: number, note = '') {
      const ids = await emitMany(producer, orgId, count, note);
      await waitFor(
        async () => (await this.count(`event_id = any('{${ids.join(',')}}'::uuid[])`)) === count,
        {
          description: `${count} probe events in the audit log`,
        },
      );
      await waitFor(() => this.settled(), { description: 'the log checkpointed' });
      return ids;
    },
    async count(where = 'true'): Promise<number> {
      const { rows } = await sql<{
        n: number;
      }>`select count(*)::int8 as n from audit_log where ${sql.raw(where)}`.execute(db);
      return rows[0].n;
    },
    /**
     * Whether the log is at rest: every entry but checkpoint events is checkpointed, and the
     * newest checkpoint's own event has landed (so the entry count stays put).
     */
    async settled(): Promise<boolean> {
      if (!log || (await log.checkpointNow()) !== undefined) return false;
      const { rows } = await sql<{
        size: number | null;
      }>`select max(tree_size) as size from audit_checkpoints`.execute(db);
      return rows[0].size !== null && (await this.count(`subject = 'checkpoint/${rows[0].size}'`)) === 1;
    },
    async verify() {
      const publicKey = createPublicKey(await loadSigningKey(db, undefined).then((k) => k.key));
      return verifyLog(await readEntries(db, 0, 1e9), {
        publicKeys: keyRing([publicKey]),
        checkpoints: await readCheckpoints(db),
      });
    },
    async stop() {
      await running.stop();
      await db.destroy();
      await nats.stop();
      await database.drop();
    },
  };
}
export type AuditHarness = Awaited<ReturnType<typeof startAuditHarness>>;
