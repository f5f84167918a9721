import type { AnyDatabase } from '@palisade/persistence';
import { sql, RawBuilder } from 'kysely';
import { AuditEntry } from '../domain';
import { ENTRY_COLUMNS } from './audit-log.repository';

/** What the query API and the filtered export select by (all optional, combined with AND). */
export interface AuditFilter {
  orgId?: string;
  actor?: string;
  type?: string;
  subject?: string;
  /** Event time, inclusive from, exclusive to (ISO timestamps). */
  from?: string;
  to?: string;
}

function conditions(filter: AuditFilter, afterSequence: number, upTo?: number): RawBuilder<unknown> {
  const parts: RawBuilder<unknown>[] = [sql`sequence > ${afterSequence}`];
  if (upTo !== undefined) parts.push(sql`sequence <= ${upTo}`);
  if (filter.orgId !== undefined) parts.push(sql`org_id = ${filter.orgId}`);
  if (filter.actor !== undefined) parts.push(sql`actor = ${filter.actor}`);
  if (filter.type !== undefined) parts.push(sql`type = ${filter.type}`);
  if (filter.subject !== undefined) parts.push(sql`subject = ${filter.subject}`);
  if (filter.from !== undefined) parts.push(sql`event_time >= ${filter.from}::timestamptz`);
  if (filter.to !== undefined) parts.push(sql`event_time < ${filter.to}::timestamptz`);
  return sql.join(parts, sql` and `);
}

/** Entries matching `filter` after `afterSequence` (keyset pagination), in sequence order. */
export async function queryEntries(
  db: AnyDatabase,
  filter: AuditFilter,
  afterSequence: number,
  limit: number,
  upTo?: number,
): Promise<AuditEntry[]> {
  const { rows } = await sql<AuditEntry>`
    select ${ENTRY_COLUMNS} from audit_log where ${conditions(filter, afterSequence, upTo)} order by sequence limit ${limit}`.execute(
    db,
  );
  return rows;
}
