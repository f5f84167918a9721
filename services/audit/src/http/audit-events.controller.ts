import { Controller, Get, Inject, Query, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ORG_TOKEN } from '@palisade/contracts';
import { apiError } from '@palisade/runtime';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { exportFiltered } from '../log/audit-export';
import { AuditLogService } from '../log/audit-log.service';
import { AuditFilter, queryEntries } from '../log/audit-query';
import { AUDIT_READ_AUTHORIZER } from './audit-read.authorizer';
import type { AuditReadAuthorizer } from './audit-read.authorizer';
import { parseQuery, positiveInt } from './query';

const text = (name: string, max = 256) =>
  z
    .string()
    .min(1, { error: `${name} must not be empty` })
    .max(max, { error: `${name} is at most ${max} characters` });
const instant = (name: string) =>
  z.iso.datetime({ offset: true, error: `${name} must be an ISO 8601 time, e.g. 2026-11-25T05:00:00Z` });

const filterShape = {
  org: z.string().regex(ORG_TOKEN, { error: 'org must be an organization id' }).optional(),
  actor: text('actor').optional(),
  type: text('type', 200).optional(),
  subject: text('subject').optional(),
  from: instant('from').optional(),
  to: instant('to').optional(),
};
const eventsQuery = z
  .object({
    ...filterShape,
    limit: positiveInt('limit')
      .pipe(z.number().max(1000, { error: 'limit is at most 1000' }))
      .optional(),
    cursor: z.string().max(64).optional(),
  })
  .strict();
const exportQuery = z.object(filterShape).strict();

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
    @Inject(AUDIT_READ_AUTHORIZER) private readonly authorizer: AuditReadAuthorizer,
  ) {}

  /** The reader's filter: their organization, whatever the query asks. */
  private async filterFor(request: Request, query: z.infer<typeof exportQuery>): Promise<AuditFilter> {
    const reader = await this.authorizer.authorize(request);
    if (query.org !== undefined && query.org !== reader.orgId)
      throw apiError(
        403,
        'organization_forbidden',
        'You can read the audit log of your own organization only.',
      );
    if (query.from && query.to && Date.parse(query.from) >= Date.parse(query.to))
      throw apiError(400, 'invalid_query', 'from must be earlier than to.');
    return {
      orgId: reader.orgId,
      actor: query.actor,
      type: query.type,
      subject: query.subject,
      from: query.from,
      to: query.to,
    };
  }

  @Get('events')
  @ApiOperation({ summary: "Audit entries of the caller's organization (needs audit.read)" })
  @ApiQuery({ name: 'org', required: false, description: "must be the caller's organization" })
  @ApiQuery({ name: 'actor', required: false, description: 'e.g. user:<id>' })
  @ApiQuery({ name: 'type', required: false, description: 'palisade.<context>.<entity>.<verb>.v<N>' })
  @ApiQuery({ name: 'subject', required: false })
  @ApiQuery({ name: 'from', required: false, description: 'event time, inclusive (ISO 8601)' })
  @ApiQuery({ name: 'to', required: false, description: 'event time, exclusive (ISO 8601)' })
  @ApiQuery({ name: 'limit', required: false, description: '1..1000, default 100' })
  @ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page' })
  async events(@Req() request: Request, @Query() raw: unknown) {
    const { limit = 100, cursor, ...query } = parseQuery(eventsQuery, raw);
    const after = decodeCursor(cursor);
    const filter = await this.filterFor(request, query);
    const entries = await queryEntries(this.log.db, filter, after, limit + 1);
    const page = entries.slice(0, limit);
    return {
      items: page.map(({ canonical, ...entry }) => ({ ...entry, event: JSON.parse(canonical) as unknown })),
      nextCursor: entries.length > limit ? encodeCursor(page[page.length - 1].sequence) : null,
    };
  }

  @Get('export')
  @ApiOperation({
    summary: 'NDJSON export of matching entries, each with an inclusion proof (needs audit.read)',
  })
  async export(@Req() request: Request, @Res() response: Response, @Query() raw: unknown): Promise<void> {
    const filter = await this.filterFor(request, parseQuery(exportQuery, raw));
    response.status(200).type('application/x-ndjson');
    response.setHeader('content-disposition', 'attachment; filename="palisade-audit.ndjson"');
    await exportFiltered(this.log.db, filter, (line) => {
      if (!response.write(`${line}\n`)) return new Promise((resolve) => response.once('drain', resolve));
      return undefined;
    });
    response.end();
  }
}
