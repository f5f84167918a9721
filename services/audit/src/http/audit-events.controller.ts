import { Controller, Get, Inject, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CheckedResource, fromCallerOrganization, RequirePermission } from '@palisade/auth';
import { ORG_TOKEN } from '@palisade/contracts';
import type { AuthzResource } from '@palisade/contracts';
import type { Clock } from '@palisade/domain';
import { apiError, CLOCK, validate } from '@palisade/runtime';
import type { Response } from 'express';
import { z } from 'zod';
import { exportFiltered } from '../log/audit-export';
import { AuditLogService } from '../log/audit-log.service';
import { AuditFilter, queryEntries } from '../log/audit-query';
import { INVALID_QUERY, pageLimit } from './query';

const text = (max = 256) =>
  z
    .string()
    .min(1, { error: 'must not be empty' })
    .max(max, { error: `is at most ${max} characters` });
const instant = () =>
  z.iso.datetime({ offset: true, error: 'must be an ISO 8601 time, e.g. 2026-11-25T05:00:00Z' });

const filterShape = {
  org: z.string().regex(ORG_TOKEN, { error: 'must be an organization id' }).optional(),
  actor: text().optional(),
  type: text(200).optional(),
  subject: text().optional(),
  from: instant().optional(),
  to: instant().optional(),
};
const eventsQuery = z
  .object({ ...filterShape, limit: pageLimit(), cursor: z.string().max(64).optional() })
  .strict();
const exportQuery = z.object(filterShape).strict();
type ExportQuery = z.infer<typeof exportQuery>;

/** Every refusal of audit.read: one answer, the reason named to members only. */
const AUDIT_READ = [
  'audit.read',
  fromCallerOrganization('org', INVALID_QUERY),
  { denied: { code: 'audit_read_denied', message: 'Reading this audit log is not allowed.' } },
] as const;

const CURSOR = /^v1\.([1-9][0-9]{0,14})$/;

export function encodeCursor(sequence: number): string {
  return Buffer.from(`v1.${sequence}`).toString('base64url');
}

function decodeCursor(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  const match = CURSOR.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw apiError(400, 'invalid_cursor', 'cursor must be the nextCursor of a previous page.');
  return Number(match[1]);
}

/**
 * The audit log for people with `audit.read`: entries of their own organization, filtered, in
 * log order with cursor pagination, and as an NDJSON export with inclusion proofs.
 */
@ApiTags('audit')
@Controller('v1/audit')
export class AuditEventsController {
  constructor(
    private readonly log: AuditLogService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** The reader's filter: the organization authorization allowed, whatever else the query asks. */
  private filterFor({ orgId }: AuthzResource, query: ExportQuery): AuditFilter {
    if (query.org !== undefined && query.org !== orgId)
      throw apiError(
        403,
        'organization_forbidden',
        'You can read the audit log of your own organization only.',
      );
    if (query.from && query.to && Date.parse(query.from) >= Date.parse(query.to))
      throw apiError(400, 'invalid_query', 'from must be earlier than to.');
    return {
      orgId,
      actor: query.actor,
      type: query.type,
      subject: query.subject,
      from: query.from,
      to: query.to,
    };
  }

  @Get('events')
  @RequirePermission(...AUDIT_READ)
  @ApiOperation({ summary: "Audit entries of the caller's organization (needs audit.read)" })
  @ApiQuery({ name: 'org', required: false, description: "the organization (an API token's own by default)" })
  @ApiQuery({ name: 'actor', required: false, description: 'e.g. user:<id>' })
  @ApiQuery({ name: 'type', required: false, description: 'palisade.<context>.<entity>.<verb>.v<N>' })
  @ApiQuery({ name: 'subject', required: false })
  @ApiQuery({ name: 'from', required: false, description: 'event time, inclusive (ISO 8601)' })
  @ApiQuery({ name: 'to', required: false, description: 'event time, exclusive (ISO 8601)' })
  @ApiQuery({ name: 'limit', required: false, description: '1..1000, default 100' })
  @ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page' })
  async events(
    @CheckedResource() resource: AuthzResource,
    @Query(validate(eventsQuery, INVALID_QUERY))
    { limit = 100, cursor, ...query }: z.infer<typeof eventsQuery>,
  ) {
    const after = decodeCursor(cursor);
    const filter = this.filterFor(resource, query);
    const entries = await queryEntries(this.log.db, filter, after, limit + 1);
    const page = entries.slice(0, limit);
    return {
      items: page.map(({ canonical, ...entry }) => ({ ...entry, event: JSON.parse(canonical) as unknown })),
      nextCursor: entries.length > limit ? encodeCursor(page[page.length - 1].sequence) : null,
    };
  }

  @Get('export')
  @RequirePermission(...AUDIT_READ)
  @ApiOperation({
    summary: 'NDJSON export of matching entries, each with an inclusion proof (needs audit.read)',
  })
  async export(
    @CheckedResource() resource: AuthzResource,
    @Query(validate(exportQuery, INVALID_QUERY)) query: ExportQuery,
    @Res() response: Response,
  ): Promise<void> {
    const filter = this.filterFor(resource, query);
    response.status(200).type('application/x-ndjson');
    response.setHeader('content-disposition', 'attachment; filename="palisade-audit.ndjson"');
    await exportFiltered(
      this.log.db,
      filter,
      (line) => {
        if (!response.write(`${line}\n`)) return new Promise((resolve) => response.once('drain', resolve));
        return undefined;
      },
      this.clock.now(),
    );
    response.end();
  }
}
