import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { AUTHORIZATION, orgCreated, PLACEMENT } from '@palisade/contracts';
import type { EventEnvelope } from '@palisade/contracts';
import { JetStreamEventContext, OnEvent } from '@palisade/messaging';
import { sql } from 'kysely';
import { PlacementViewProjection } from '../projections/placement-view.projection';

/**
 * The organizations placement knows: authorization's org.created, from the whole stream with
 * its gap check (so an organization created before this consumer existed is replayed from
 * authorization's store), into `organizations` and the view. A placement for any other
 * organization is refused with unknown_organization.
 */
@Controller()
export class OrganizationsConsumer {
  constructor(private readonly projection: PlacementViewProjection) {}

  @OnEvent(
    PLACEMENT,
    'organizations',
    { context: AUTHORIZATION.context, stream: AUTHORIZATION.stream },
    {
      batch: true,
      gapCheck: true,
    },
  )
  async onEvents(@Payload() events: EventEnvelope[], @Ctx() ctx: JetStreamEventContext): Promise<void> {
    const created = events
      .filter((e) => e.type === orgCreated.type)
      .map((e) => (e.data as { orgId: string }).orgId);
    if (created.length === 0) return;
    await sql`insert into organizations (org_id) select unnest(${created}::text[]) on conflict do nothing`.execute(
      ctx.trx(),
    );
    // Early by a commit at most: an organization, once created, is never taken back.
    for (const orgId of created) this.projection.view.addOrganization(orgId);
  }
}
