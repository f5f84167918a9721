import { ClickHouseClient, ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { parseEventType } from '@palisade/contracts';
import type { Clock } from '@palisade/domain';
import { describeError } from '@palisade/messaging';
import { counter, gauge } from '@palisade/observability';
import type { AnyDatabase } from '@palisade/persistence';
import { sql } from 'kysely';
import type { Logger } from 'pino';

/** A row of palisade_audit.audit_events (infra/clickhouse/audit_events.sql): telemetry, no payloads. */
export interface ClickHouseAuditRow {
  event_id: string;
  sequence: number;
  event_time: string;
  recorded_at: string;
  exported_at: string;
  producer: string;
  type: string;
  org_id: string;
  actor: string;
  subject: string;
  denied: number;
}

export interface ClickHouseExporterOptions {
  db: AnyDatabase;
  url: string;
  database: string;
  username: string;
  password?: string;
  /** Most rows per insert. */
  batchSize: number;
  /** When rows are stamped exported. */
  clock: Clock;
  /** Longest wait before a partial batch is sent (ms). */
  flushMs: number;
  /** Longest wait between retries (ms, default 30 s). */
  maxBackoffMs?: number;
  logger: Logger;
}

const EXPORTER = 'clickhouse';

/** Export health for Prometheus: visible while ClickHouse (and so the dashboard) is down. */
function exportMetrics() {
  return {
    lag: gauge('palisade_audit_export_lag_entries', 'Audit log entries not yet acknowledged by ClickHouse'),
    exported: counter('palisade_audit_exported_total', 'Audit log entries inserted into ClickHouse'),
    failures: counter('palisade_audit_export_failures_total', 'Failed ClickHouse export attempts'),
  };
}
const DENIED_VERBS = /^(denied|failed|rejected|refused|blocked)$/;

/** `2026-11-25 05:00:00`: ClickHouse DateTime text (UTC; 18.16 does not read ISO 8601). */
export function clickHouseDateTime(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

/** Whether an event type records a refusal (the dashboard's "denied actions"). */
export function isDenied(type: string): boolean {
  const verb = parseEventType(type)?.verb;
  return verb !== undefined && DENIED_VERBS.test(verb);
}

/**
 * Copies the audit log to ClickHouse in sequence order: batches bounded by size and time, retried
 * with exponential backoff while ClickHouse is down, the position saved in Postgres after each
 * acknowledged insert (at least once; the table collapses repeats by event id). Palisade does not
 * wait for it: the audit log is the source of truth, and the exporter catches up when it can.
 */
export class ClickHouseExporter {
  private readonly client: ClickHouseClient;
  private timer?: NodeJS.Timeout;
  private running = false;
  private loop?: Promise<void>;
  private failures = 0;
  private wake?: () => void;
  private readonly metrics = exportMetrics();
  exported = 0;
  lastError?: string;

  constructor(private readonly options: ClickHouseExporterOptions) {
    this.client = createClient({
      url: options.url,
      username: options.username,
      password: options.password ?? '',
      database: options.database,
      // ClickHouse 18.16 answers compressed requests badly; the rows are small.
      compression: { request: false, response: false },
      request_timeout: 10_000,
      max_open_connections: 2,
      // Failures are logged once, redacted, through the service's pino logger.
      log: { level: ClickHouseLogLevel.OFF },
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
    await this.loop;
    await this.client.close();
  }

  /** Where the export stands: the last sequence ClickHouse acknowledged. */
  async position(): Promise<number> {
    const { rows } = await sql<{ exported_through: number }>`
      select exported_through from audit_export_state where exporter = ${EXPORTER}`.execute(this.options.db);
    return rows[0]?.exported_through ?? 0;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
      this.timer.unref?.();
    });
  }

  private async run(): Promise<void> {
    while (this.running) {
      let sent = 0;
      try {
        sent = await this.exportOnce();
        this.failures = 0;
      } catch (error) {
        this.failures++;
        this.metrics.failures.inc();
        this.lastError = describeError(error);
        this.options.logger.warn(
          { err: this.lastError, failures: this.failures },
          'ClickHouse export failed; will retry with backoff',
        );
      }
      await this.measureLag();
      if (!this.running) return;
      // A full batch: go on at once. Otherwise wait the flush interval, or back off after failures.
      if (sent === this.options.batchSize && this.failures === 0) continue;
      const backoff = Math.min(
        this.options.maxBackoffMs ?? 30_000,
        this.options.flushMs * 2 ** Math.min(this.failures, 16),
      );
      await this.sleep(this.failures ? backoff : this.options.flushMs);
    }
  }

  /** Entries in the log beyond the export position (also while ClickHouse is down). */
  async lag(): Promise<number> {
    const { rows } = await sql<{ head: number | null }>`select max(sequence) as head from audit_log`.execute(
      this.options.db,
    );
    return Math.max(0, (rows[0].head ?? 0) - (await this.position()));
  }

  private async measureLag(): Promise<void> {
    try {
      this.metrics.lag.set(await this.lag());
    } catch {
      // Postgres is unreachable: the consumer and readiness checks report that.
    }
  }

  /** Sends the next batch after the saved position; returns how many rows went. */
  async exportOnce(): Promise<number> {
    const { db, batchSize } = this.options;
    const after = await this.position();
    const { rows } = await sql<{
      sequence: number;
      event_id: string;
      event_time: Date;
      recorded_at: Date;
      producer: string;
      type: string;
      org_id: string;
      actor: string;
      subject: string;
    }>`
      select sequence, event_id, event_time, recorded_at, producer, type, org_id, actor, subject
      from audit_log where sequence > ${after} order by sequence limit ${batchSize}`.execute(db);
    if (rows.length === 0) return 0;
    const exportedAt = clickHouseDateTime(new Date(this.options.clock.now()));
    const values: ClickHouseAuditRow[] = rows.map((row) => ({
      event_id: row.event_id,
      sequence: row.sequence,
      event_time: clickHouseDateTime(row.event_time),
      recorded_at: clickHouseDateTime(row.recorded_at),
      exported_at: exportedAt,
      producer: row.producer,
      type: row.type,
      org_id: row.org_id,
      actor: row.actor,
      subject: row.subject,
      denied: isDenied(row.type) ? 1 : 0,
    }));
    await this.client.insert({ table: 'audit_events', values, format: 'JSONEachRow' });
    const through = rows[rows.length - 1].sequence;
    await sql`
      insert into audit_export_state (exporter, exported_through) values (${EXPORTER}, ${through})
      on conflict (exporter) do update set exported_through = excluded.exported_through
      where audit_export_state.exported_through < excluded.exported_through`.execute(db);
    this.exported += rows.length;
    this.metrics.exported.inc(rows.length);
    return rows.length;
  }
}
