import { randomUUID } from 'node:crypto';
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  AccessTokenGuard,
  actorOf,
  authzSubjectOf,
  CurrentPrincipal,
  fromPath,
  RequirePermission,
} from '@palisade/auth';
import type { Principal, ResourceFrom } from '@palisade/auth';
import {
  allowlistsSchema,
  AUTHZ_ACTIONS,
  authzResourceSchema,
  MAX_AUTHZ_BATCH,
  orgIdSchema,
  orgRoleSchema,
  policyPackNameSchema,
  rootPolicyModeSchema,
  userIdSchema,
  workspaceGrantSchema,
  workspaceIdSchema,
} from '@palisade/contracts';
import type {
  Allowlists,
  AuthzCheck,
  OrgRole,
  PolicyPackName,
  RootPolicyMode,
  WorkspaceGrant,
} from '@palisade/contracts';
import type { Clock } from '@palisade/domain';
import { apiError, CLOCK, parseInput, SERVICE_CONFIG, validate } from '@palisade/runtime';
import { z } from 'zod';
import type { AuthorizationConfig } from '../authorization.config';
import { OrganizationCommands, OrgCommandInput } from '../commands/organization.commands';
import { AuthzViewProjection } from '../projections/authz-view.projection';

/** The user a command acts as (an API token acts for the user it was issued to). */
function actingUser(principal: Principal): string {
  const subject = authzSubjectOf(principal);
  return (subject as { userId: string }).userId;
}

const bodies = {
  createOrg: z.object({ orgId: orgIdSchema, name: z.string().trim().min(1).max(120) }).strict(),
  invite: z
    .object({
      role: orgRoleSchema,
      expiresInMinutes: z
        .int()
        .min(5)
        .max(14 * 24 * 60)
        .default(7 * 24 * 60),
    })
    .strict(),
  accept: z.object({ token: z.string().min(20).max(100) }).strict(),
  addMember: z.object({ userId: userIdSchema, role: orgRoleSchema }).strict(),
  role: z.object({ role: orgRoleSchema }).strict(),
  grant: z.object({ grant: workspaceGrantSchema }).strict(),
  rootPolicy: z.object({ mode: rootPolicyModeSchema }).strict(),
  elevation: z
    .object({
      workspaceId: workspaceIdSchema,
      reason: z.string().trim().min(10).max(500),
      windowMinutes: z.int().min(5).max(480),
    })
    .strict(),
  deny: z
    .object({ reason: z.string().max(500).optional() })
    .strict()
    .optional()
    .transform((body) => body ?? {}),
  policyPack: z
    .object({
      pack: policyPackNameSchema,
      extensions: allowlistsSchema.optional(),
      /** Adds PALISADE_ALLOWED_IMAGES / NETWORKS / TOOLS of this deployment to the extensions. */
      applyEnvironment: z.boolean().default(false),
    })
    .strict(),
  check: z.object({ action: z.string().min(1).max(64), resource: authzResourceSchema }).strict(),
};
const checkBody = z.union([
  bodies.check,
  z.object({ checks: z.array(bodies.check).min(1).max(MAX_AUTHZ_BATCH) }).strict(),
]);
type CheckBody = z.infer<typeof checkBody>;

const ORG = fromPath('orgId');
/** root.request names the workspace in the body. */
const ORG_AND_BODY_WORKSPACE: ResourceFrom = (request) => ({
  ...ORG(request),
  workspaceId: parseInput(
    workspaceIdSchema,
    (request.body as { workspaceId?: unknown } | undefined)?.workspaceId,
    {
      in: 'body',
      name: 'workspaceId',
    },
  ),
});
const orgId = () => validate(orgIdSchema);
const userId = () => validate(userIdSchema);

@ApiTags('authorization')
@ApiBearerAuth()
@UseGuards(AccessTokenGuard)
@Controller('v1')
export class AuthorizationController {
  constructor(
    private readonly commands: OrganizationCommands,
    private readonly projection: AuthzViewProjection,
    @Inject(SERVICE_CONFIG) private readonly config: AuthorizationConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  private async run(principal: Principal, orgId: string, input: OrgCommandInput) {
    const { events } = await this.commands.execute(orgId, input, actorOf(principal));
    return { events: events.map((e) => e.event.type) };
  }

  @Post('orgs')
  @ApiOperation({ summary: 'Create an organization; the caller becomes its first owner' })
  async createOrg(
    @CurrentPrincipal() principal: Principal,
    @Body(validate(bodies.createOrg)) { orgId, name }: z.infer<typeof bodies.createOrg>,
  ) {
    if (principal.kind !== 'user' && principal.kind !== 'demo')
      throw apiError(403, 'user_required', 'only a signed-in person can create an organization');
    await this.run(principal, orgId, { type: 'createOrg', orgId, name, by: actingUser(principal) });
    return { orgId };
  }

  @Get('orgs/:orgId')
  @RequirePermission('org.read', ORG)
  @ApiOperation({ summary: 'An organization: members, roles, grants, root policy, policy pack (org.read)' })
  getOrg(@Param('orgId', orgId()) orgId: string) {
    const org = this.projection.view.org(orgId)!;
    return {
      orgId,
      name: org.name,
      members: [...org.members].map(([userId, role]) => ({
        userId,
        role,
        grants: Object.fromEntries(org.grants.get(userId) ?? []),
      })),
      rootPolicy: org.rootPolicy,
      policyPack: this.projection.view.policyPack(orgId),
      elevations: [...org.elevations.values()].map((e) => ({
        elevationId: e.id,
        requester: e.requester,
        workspaceId: e.workspaceId,
        status: e.status,
        reason: e.reason,
        approver: e.approver,
        startsAt: e.startsAt && new Date(e.startsAt).toISOString(),
        expiresAt: e.expiresAt && new Date(e.expiresAt).toISOString(),
      })),
    };
  }

  @Post('orgs/:orgId/invitations')
  @RequirePermission('member.manage', ORG)
  @ApiOperation({ summary: 'Invite: returns a one-time token (shown once, stored as a hash)' })
  async invite(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId', orgId()) orgId: string,
    @Body(validate(bodies.invite)) { role, expiresInMinutes }: { role: OrgRole; expiresInMinutes: number },
  ) {
    const invitationId = randomUUID();
    const { token } = await this.commands.invite(
      orgId,
      { type: 'invite', invitationId, role, expiresInMinutes, by: actingUser(principal) },
      actorOf(principal),
    );
    return { invitationId, token, role };
  }

  /** Whoever holds the token may accept: the invitee is not a member yet, so no permission applies. */
  @Post('orgs/:orgId/invitations/:invitationId/accept')
  @HttpCode(200)
  async accept(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId', orgId()) orgId: string,
    @Param('invitationId', validate(z.uuid())) invitationId: string,
    @Body(validate(bodies.accept)) { token }: { token: string },
  ) {
    if (principal.kind !== 'user') throw apiError(403, 'user_required', 'only a signed-in person can accept');
    await this.commands.acceptInvitation(orgId, invitationId, token, principal.userId, actorOf(principal));
    return { orgId, userId: principal.userId };
  }

  @Post('orgs/:orgId/members')
  @RequirePermission('member.manage', ORG)
  addMember(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId', orgId()) orgId: string,
    @Body(validate(bodies.addMember)) { userId, role }: { userId: string; role: OrgRole },
  ) {
    return this.run(principal, orgId, { type: 'addMember', userId, role, by: actingUser(principal) });
  }

  /** Anyone may leave; removing someone else takes member.manage, which the decider checks. */
  @Delete('orgs/:orgId/members/:userId')
  @RequirePermission('org.read', ORG, { write: true })
  removeMember(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId', orgId()) orgId: string,
    @Param('userId', userId()) userId: string,
  ) {
    return this.run(principal, orgId, { type: 'removeMember', userId, by: actingUser(principal) });
  }

  @Put('orgs/:orgId/members/:userId/role')
  @RequirePermission('member.manage', ORG)
  changeRole(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId', orgId()) orgId: string,
    @Param('userId', userId()) userId: string,
    @Body(validate(bodies.role)) { role }: { role: OrgRole },
  ) {
    return this.run(principal, orgId, { type: 'changeRole', userId, role, by: actingUser(principal) });
  }

  @Put('orgs/:orgId/workspaces/:workspaceId/grants/:userId')
  @RequirePermission('member.manage', ORG)
  addGrant(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId', orgId()) orgId: string,
    @Param('workspaceId', validate(workspaceIdSchema)) workspaceId: string,
    @Param('userId', userId()) userId: string,
    @Body(validate(bodies.grant)) { grant }: { grant: WorkspaceGrant },
  ) {
    return this.run(principal, orgId, {
      type: 'addGrant',
      userId,
      workspaceId,
      grant,
      by: actingUser(principal),
    });
  }

  @Delete('orgs/:orgId/workspaces/:workspaceId/grants/:userId')
  @RequirePermission('member.manage', ORG)
  removeGrant(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId', orgId()) orgId: string,
    @Param('workspaceId', validate(workspaceIdSchema)) workspaceId: string,
    @Param('userId', userId()) userId: string,
  ) {
    return this.run(principal, orgId, {
      type: 'removeGrant',
      userId,
      workspaceId,
      by: actingUser(principal),
    });
  }

  @Put('orgs/:orgId/root-policy')
  @RequirePermission('policy.change', ORG)
  setRootPolicy(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId', orgId()) orgId: string,
    @Body(validate(bodies.rootPolicy)) { mode }: { mode: RootPolicyMode },
  ) {
    return this.run(principal, orgId, { type: 'setRootPolicy', mode, by: actingUser(principal) });
  }

  @Post('orgs/:orgId/elevations')
  @RequirePermission('root.request', ORG_AND_BODY_WORKSPACE)
  @ApiOperation({ summary: 'Ask for root on one workspace, with a reason and a window' })
  async requestElevation(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId', orgId()) orgId: string,
    @Body(validate(bodies.elevation)) request: z.infer<typeof bodies.elevation>,
  ) {
    const elevationId = randomUUID();
    await this.run(principal, orgId, {
      type: 'requestElevation',
      elevationId,
      ...request,
      by: actingUser(principal),
    });
    return { elevationId };
  }

  @Post('orgs/:orgId/elevations/:elevationId/approve')
  @HttpCode(200)
  @RequirePermission('root.approve', ORG)
  @ApiOperation({ summary: 'Approve a pending elevation (an admin other than the requester)' })
  approveElevation(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId', orgId()) orgId: string,
    @Param('elevationId', validate(z.uuid())) elevationId: string,
  ) {
    return this.run(principal, orgId, { type: 'approveElevation', elevationId, by: actingUser(principal) });
  }

  @Post('orgs/:orgId/elevations/:elevationId/deny')
  @HttpCode(200)
  @RequirePermission('root.approve', ORG)
  @ApiOperation({ summary: 'Deny a pending elevation (an admin other than the requester)' })
  denyElevation(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId', orgId()) orgId: string,
    @Param('elevationId', validate(z.uuid())) elevationId: string,
    @Body(validate(bodies.deny)) { reason }: { reason?: string },
  ) {
    return this.run(principal, orgId, {
      type: 'denyElevation',
      elevationId,
      reason,
      by: actingUser(principal),
    });
  }

  /** The requester ends its own early; anyone else needs member.manage, which the decider checks. */
  @Post('orgs/:orgId/elevations/:elevationId/end')
  @HttpCode(200)
  @RequirePermission('org.read', ORG, { write: true })
  @ApiOperation({ summary: 'End an approved elevation early (its requester, or an admin)' })
  endElevation(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId', orgId()) orgId: string,
    @Param('elevationId', validate(z.uuid())) elevationId: string,
  ) {
    return this.run(principal, orgId, { type: 'endElevation', elevationId, by: actingUser(principal) });
  }

  @Put('orgs/:orgId/policy-pack')
  @RequirePermission('policy.change', ORG)
  @ApiOperation({
    summary: "Choose the organization's policy pack and extend it (an admin action, recorded)",
  })
  setPolicyPack(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId', orgId()) orgId: string,
    @Body(validate(bodies.policyPack))
    {
      pack,
      extensions,
      applyEnvironment,
    }: { pack: PolicyPackName; extensions?: Allowlists; applyEnvironment: boolean },
  ) {
    const base = extensions ?? { images: [], networks: [], tools: [] };
    const merged = applyEnvironment
      ? {
          images: [...new Set([...base.images, ...this.config.PALISADE_ALLOWED_IMAGES])],
          networks: [...new Set([...base.networks, ...this.config.PALISADE_ALLOWED_NETWORKS])],
          tools: [...new Set([...base.tools, ...this.config.PALISADE_ALLOWED_TOOLS])],
        }
      : base;
    return this.run(principal, orgId, {
      type: 'setPolicyPack',
      pack,
      extensions: parseInput(allowlistsSchema, merged, { in: 'body', name: 'extensions' }),
      by: actingUser(principal),
    });
  }

  /** Any signed-in caller may ask about itself: the answer is the permission. */
  @Post('authz/check')
  @HttpCode(200)
  @ApiOperation({
    summary: `May the caller do this? One { action, resource } or { checks: [...] } (actions: ${AUTHZ_ACTIONS.join(', ')})`,
  })
  check(@CurrentPrincipal() principal: Principal, @Body(validate(checkBody)) body: CheckBody) {
    const subject = authzSubjectOf(principal);
    const now = this.clock.now();
    const decide = (c: { action: string; resource: AuthzCheck['resource'] }) =>
      this.projection.view.check({ subject, action: c.action, resource: c.resource }, now);
    return 'checks' in body ? { decisions: body.checks.map(decide) } : decide(body);
  }
}
