import { randomUUID } from 'node:crypto';
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AccessTokenGuard, actorOf, authzSubjectOf, CurrentPrincipal } from '@palisade/auth';
import type { Principal } from '@palisade/auth';
import {
  allowlistsSchema,
  AUTHZ_ACTIONS,
  authzResourceSchema,
  formatIssues,
  MAX_AUTHZ_BATCH,
  orgIdSchema,
  orgRoleSchema,
  policyPackNameSchema,
  rootPolicyModeSchema,
  userIdSchema,
  workspaceGrantSchema,
  workspaceIdSchema,
} from '@palisade/contracts';
import type { AuthzCheck } from '@palisade/contracts';
import { apiError, SERVICE_CONFIG } from '@palisade/runtime';
import { z } from 'zod';
import type { AuthorizationConfig } from '../authorization.config';
import { OrganizationCommands, OrgCommandInput } from '../commands/organization.commands';
import { AuthzRuleError } from '../domain/organization.decider';
import { AuthzViewProjection } from '../projections/authz-view.projection';

/** The user a command acts as; an API token must belong to the organization and may write. */
function actingUser(principal: Principal, orgId: string): string {
  const subject = authzSubjectOf(principal);
  if (subject.kind === 'api_token') {
    if (subject.orgId !== orgId)
      throw apiError(403, 'token_other_organization', 'this API token belongs to another organization');
    if (subject.access !== 'write') throw apiError(403, 'token_read_only', 'this API token can only read');
  }
  return (subject as { userId: string }).userId;
}

function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw apiError(400, 'invalid_request', `${what}: ${formatIssues(parsed.error).join('; ')}`);
  return parsed.data;
}

const orgParam = (value: string) => parse(orgIdSchema, value, 'organization id');
const uuidParam = (value: string, what: string) => parse(z.uuid(), value, what);

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
  deny: z.object({ reason: z.string().max(500).optional() }).strict(),
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

@ApiTags('authorization')
@ApiBearerAuth()
@UseGuards(AccessTokenGuard)
@Controller('v1')
export class AuthorizationController {
  constructor(
    private readonly commands: OrganizationCommands,
    private readonly projection: AuthzViewProjection,
    @Inject(SERVICE_CONFIG) private readonly config: AuthorizationConfig,
  ) {}

  private async run(principal: Principal, orgId: string, input: OrgCommandInput) {
    try {
      const { events } = await this.commands.execute(orgId, input, actorOf(principal));
      return { events: events.map((e) => e.event.type) };
    } catch (error) {
      throw toHttp(error);
    }
  }

  @Post('orgs')
  @ApiOperation({ summary: 'Create an organization; the caller becomes its first owner' })
  async createOrg(@CurrentPrincipal() principal: Principal, @Body() body: unknown) {
    const { orgId, name } = parse(bodies.createOrg, body, 'organization');
    if (principal.kind !== 'user' && principal.kind !== 'demo')
      throw apiError(403, 'user_required', 'only a signed-in person can create an organization');
    await this.run(principal, orgId, { kind: 'createOrg', orgId, name, by: actingUser(principal, orgId) });
    return { orgId };
  }

  @Get('orgs/:orgId')
  @ApiOperation({ summary: 'An organization: members, roles, grants, root policy, policy pack (org.read)' })
  getOrg(@CurrentPrincipal() principal: Principal, @Param('orgId') orgIdRaw: string) {
    const orgId = orgParam(orgIdRaw);
    this.require(principal, 'org.read', { orgId });
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
  @ApiOperation({ summary: 'Invite: returns a one-time token (shown once, stored as a hash)' })
  async invite(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId') orgIdRaw: string,
    @Body() body: unknown,
  ) {
    const orgId = orgParam(orgIdRaw);
    const { role, expiresInMinutes } = parse(bodies.invite, body, 'invitation');
    const invitationId = randomUUID();
    try {
      const { token } = await this.commands.invite(
        orgId,
        { kind: 'invite', invitationId, role, expiresInMinutes, by: actingUser(principal, orgId) },
        actorOf(principal),
      );
      return { invitationId, token, role };
    } catch (error) {
      throw toHttp(error);
    }
  }

  @Post('orgs/:orgId/invitations/:invitationId/accept')
  @HttpCode(200)
  async accept(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId') orgIdRaw: string,
    @Param('invitationId') invitationIdRaw: string,
    @Body() body: unknown,
  ) {
    const orgId = orgParam(orgIdRaw);
    const invitationId = uuidParam(invitationIdRaw, 'invitation id');
    const { token } = parse(bodies.accept, body, 'acceptance');
    if (principal.kind !== 'user') throw apiError(403, 'user_required', 'only a signed-in person can accept');
    try {
      await this.commands.acceptInvitation(orgId, invitationId, token, principal.userId, actorOf(principal));
      return { orgId, userId: principal.userId };
    } catch (error) {
      throw toHttp(error);
    }
  }

  @Post('orgs/:orgId/members')
  async addMember(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId') orgIdRaw: string,
    @Body() body: unknown,
  ) {
    const orgId = orgParam(orgIdRaw);
    const { userId, role } = parse(bodies.addMember, body, 'member');
    return this.run(principal, orgId, { kind: 'addMember', userId, role, by: actingUser(principal, orgId) });
  }

  @Delete('orgs/:orgId/members/:userId')
  async removeMember(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId') orgIdRaw: string,
    @Param('userId') userIdRaw: string,
  ) {
    const orgId = orgParam(orgIdRaw);
    const userId = parse(userIdSchema, userIdRaw, 'user id');
    return this.run(principal, orgId, { kind: 'removeMember', userId, by: actingUser(principal, orgId) });
  }

  @Put('orgs/:orgId/members/:userId/role')
  async changeRole(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId') orgIdRaw: string,
    @Param('userId') userIdRaw: string,
    @Body() body: unknown,
  ) {
    const orgId = orgParam(orgIdRaw);
    const userId = parse(userIdSchema, userIdRaw, 'user id');
    const { role } = parse(bodies.role, body, 'role');
    return this.run(principal, orgId, { kind: 'changeRole', userId, role, by: actingUser(principal, orgId) });
  }

  @Put('orgs/:orgId/workspaces/:workspaceId/grants/:userId')
  async addGrant(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId') orgIdRaw: string,
    @Param('workspaceId') workspaceIdRaw: string,
    @Param('userId') userIdRaw: string,
    @Body() body: unknown,
  ) {
    const orgId = orgParam(orgIdRaw);
    const workspaceId = parse(workspaceIdSchema, workspaceIdRaw, 'workspace id');
    const userId = parse(userIdSchema, userIdRaw, 'user id');
    const { grant } = parse(bodies.grant, body, 'grant');
    return this.run(principal, orgId, {
      kind: 'addGrant',
      userId,
      workspaceId,
      grant,
      by: actingUser(principal, orgId),
    });
  }

  @Delete('orgs/:orgId/workspaces/:workspaceId/grants/:userId')
  async removeGrant(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId') orgIdRaw: string,
    @Param('workspaceId') workspaceIdRaw: string,
    @Param('userId') userIdRaw: string,
  ) {
    const orgId = orgParam(orgIdRaw);
    const workspaceId = parse(workspaceIdSchema, workspaceIdRaw, 'workspace id');
    const userId = parse(userIdSchema, userIdRaw, 'user id');
    return this.run(principal, orgId, {
      kind: 'removeGrant',
      userId,
      workspaceId,
      by: actingUser(principal, orgId),
    });
  }

  @Put('orgs/:orgId/root-policy')
  async setRootPolicy(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId') orgIdRaw: string,
    @Body() body: unknown,
  ) {
    const orgId = orgParam(orgIdRaw);
    const { mode } = parse(bodies.rootPolicy, body, 'root policy');
    return this.run(principal, orgId, { kind: 'setRootPolicy', mode, by: actingUser(principal, orgId) });
  }

  @Post('orgs/:orgId/elevations')
  @ApiOperation({ summary: 'Ask for root on one workspace, with a reason and a window' })
  async requestElevation(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId') orgIdRaw: string,
    @Body() body: unknown,
  ) {
    const orgId = orgParam(orgIdRaw);
    const request = parse(bodies.elevation, body, 'elevation request');
    const elevationId = randomUUID();
    await this.run(principal, orgId, {
      kind: 'requestElevation',
      elevationId,
      ...request,
      by: actingUser(principal, orgId),
    });
    return { elevationId };
  }

  @Post('orgs/:orgId/elevations/:elevationId/:decision')
  @HttpCode(200)
  @ApiOperation({ summary: 'approve | deny (an admin other than the requester) | end (early)' })
  async decideElevation(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId') orgIdRaw: string,
    @Param('elevationId') elevationIdRaw: string,
    @Param('decision') decision: string,
    @Body() body: unknown,
  ) {
    const orgId = orgParam(orgIdRaw);
    const elevationId = uuidParam(elevationIdRaw, 'elevation id');
    const by = actingUser(principal, orgId);
    switch (decision) {
      case 'approve':
        return this.run(principal, orgId, { kind: 'approveElevation', elevationId, by });
      case 'deny':
        return this.run(principal, orgId, {
          kind: 'denyElevation',
          elevationId,
          reason: parse(bodies.deny, body ?? {}, 'denial').reason,
          by,
        });
      case 'end':
        return this.run(principal, orgId, { kind: 'endElevation', elevationId, by });
      default:
        throw apiError(404, 'not_found', 'use approve, deny or end');
    }
  }

  @Put('orgs/:orgId/policy-pack')
  @ApiOperation({
    summary: "Choose the organization's policy pack and extend it (an admin action, recorded)",
  })
  async setPolicyPack(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId') orgIdRaw: string,
    @Body() body: unknown,
  ) {
    const orgId = orgParam(orgIdRaw);
    const { pack, extensions, applyEnvironment } = parse(bodies.policyPack, body, 'policy pack');
    const base = extensions ?? { images: [], networks: [], tools: [] };
    const merged = applyEnvironment
      ? {
          images: [...new Set([...base.images, ...this.config.PALISADE_ALLOWED_IMAGES])],
          networks: [...new Set([...base.networks, ...this.config.PALISADE_ALLOWED_NETWORKS])],
          tools: [...new Set([...base.tools, ...this.config.PALISADE_ALLOWED_TOOLS])],
        }
      : base;
    return this.run(principal, orgId, {
      kind: 'setPolicyPack',
      pack,
      extensions: parse(allowlistsSchema, merged, 'extensions'),
      by: actingUser(principal, orgId),
    });
  }

  @Post('authz/check')
  @HttpCode(200)
  @ApiOperation({
    summary: `May the caller do this? One { action, resource } or { checks: [...] } (actions: ${AUTHZ_ACTIONS.join(', ')})`,
  })
  check(@CurrentPrincipal() principal: Principal, @Body() body: unknown) {
    const parsed = parse(checkBody, body, 'check');
    const subject = authzSubjectOf(principal);
    const now = Date.now();
    const decide = (c: { action: string; resource: AuthzCheck['resource'] }) =>
      this.projection.view.check({ subject, action: c.action, resource: c.resource }, now);
    return 'checks' in parsed ? { decisions: parsed.checks.map(decide) } : decide(parsed);
  }

  private require(principal: Principal, action: string, resource: AuthzCheck['resource']) {
    const decision = this.projection.view.check({ subject: authzSubjectOf(principal), action, resource });
    if (decision.reason === 'unknown_organization' || decision.reason === 'not_a_member')
      throw apiError(404, 'org_not_found', 'there is no such organization, or you are not a member');
    if (!decision.allowed)
      throw apiError(403, decision.reason, `${action} is not allowed (${decision.reason})`);
  }
}

/** Rule errors as API errors; outsiders cannot tell an organization they are not in from none. */
function toHttp(error: unknown): unknown {
  if (error instanceof AuthzRuleError) {
    if (error.code === 'not_a_member' || error.code === 'org_not_found')
      return apiError(404, 'org_not_found', 'there is no such organization, or you are not a member');
    return apiError(error.status, error.code, error.message);
  }
  return error;
}
