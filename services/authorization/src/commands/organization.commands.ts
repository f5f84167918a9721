import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { AuthorizationEvent } from '@palisade/contracts';
import { RuleError } from '@palisade/domain';
import type { Clock } from '@palisade/domain';
import { executeCommand } from '@palisade/persistence';
import type { StoredEvent } from '@palisade/persistence';
import { CLOCK, ServiceRuntime } from '@palisade/runtime';
import { sql } from 'kysely';
import { OrgCommand, orgStreamId, organizationDecider } from '../domain/organization.decider';

/** Distributive Omit: keeps each command type's own fields. */
type WithoutClock<C> = C extends unknown ? Omit<C, 'now'> : never;
export type OrgCommandInput = WithoutClock<OrgCommand>;

export interface CommandOutcome {
  events: StoredEvent<AuthorizationEvent>[];
}

const hash = (token: string) => createHash('sha256').update(token).digest();

/**
 * Runs organization commands on the write path: load `org/<id>`, decide, append (with the
 * invitation token hash in the same transaction when there is one). The actor is who the
 * request authenticated as; `by` in the command is the user the policy checks.
 */
@Injectable()
export class OrganizationCommands {
  constructor(
    private readonly runtime: ServiceRuntime,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** `now` is the command's clock (the sweep passes the time it swept at). */
  async execute(
    orgId: string,
    input: OrgCommandInput,
    actor: string,
    now = this.clock.now(),
  ): Promise<CommandOutcome> {
    const command = { ...input, now } as OrgCommand;
    const result = await executeCommand(this.runtime.db, this.runtime.store, {
      streamId: orgStreamId(orgId),
      decider: organizationDecider,
      command,
      metadata: { orgId, actor },
      conflictRetries: 5,
    });
    return { events: result.events };
  }

  /** Invites: returns the token once; only its hash is kept. */
  async invite(
    orgId: string,
    input: Extract<OrgCommandInput, { type: 'invite' }>,
    actor: string,
  ): Promise<CommandOutcome & { token: string }> {
    const token = randomBytes(32).toString('base64url');
    const result = await executeCommand(this.runtime.db, this.runtime.store, {
      streamId: orgStreamId(orgId),
      decider: organizationDecider,
      command: { ...input, now: this.clock.now() },
      metadata: { orgId, actor },
      conflictRetries: 5,
      project: async (trx) => {
        await sql`insert into invitation_tokens (invitation_id, org_id, token_hash)
                  values (${input.invitationId}, ${orgId}, ${hash(token)})`.execute(trx);
      },
    });
    return { events: result.events, token };
  }

  /** Accepts an invitation for `by` when `token` is the one it was issued with. */
  async acceptInvitation(orgId: string, invitationId: string, token: string, by: string, actor: string) {
    const row = await this.runtime.db
      .selectFrom('invitation_tokens')
      .select(['token_hash', 'org_id'])
      .where('invitation_id', '=', invitationId)
      .executeTakeFirst();
    const presented = hash(token);
    const stored = row?.token_hash as Buffer | undefined;
    if (!stored || row!.org_id !== orgId || !timingSafeEqual(stored, presented))
      throw new RuleError(
        404,
        'invitation_not_found',
        'there is no such invitation, or the token does not match',
      );
    return this.execute(orgId, { type: 'acceptInvitation', invitationId, by }, actor);
  }
}
