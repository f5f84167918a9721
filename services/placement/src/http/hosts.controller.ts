import { randomBytes } from 'node:crypto';
import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { actorOf, CurrentPrincipal, fromPath, RequirePermission } from '@palisade/auth';
import type { Principal, ResourceFrom } from '@palisade/auth';
import {
  hostCapacitySchema,
  hostIdSchema,
  hostLabelsSchema,
  MAX_HOST_LABELS,
  orgIdSchema,
  parseEngineUrl,
  SYSTEM_ORG,
} from '@palisade/contracts';
import { RuleError } from '@palisade/domain';
import { validate } from '@palisade/runtime';
import { z } from 'zod';
import { HostCommands } from '../commands/host.commands';
import type { HostState } from '../domain/host.state';
import { PlacementViewProjection } from '../projections/placement-view.projection';
import { Wiper } from '../workers/wiper';

/** Hosts belong to the platform: managing them is asked of authorization on the `system` organization. */
const platform: ResourceFrom = () => ({ orgId: SYSTEM_ORG });
const OPERATORS_ONLY = {
  denied: {
    code: 'host_manage_denied',
    message: 'Hosts are managed by platform operators: the owners and admins of the system organization.',
  },
};

export const registerHostBody = z
  .object({
    /** Default: `host-<6 hex>`. */
    hostId: hostIdSchema.optional(),
    engine: z
      .string()
      .max(1024)
      .superRefine((url, ctx) => {
        const parsed = parseEngineUrl(url);
        if ('error' in parsed) ctx.addIssue({ code: 'custom', message: parsed.error });
      }),
    capacity: hostCapacitySchema,
    labels: hostLabelsSchema
      .refine((labels) => Object.keys(labels).length <= MAX_HOST_LABELS, {
        error: `has at most ${MAX_HOST_LABELS} labels`,
      })
      .default({}),
  })
  .strict();
type RegisterHost = z.infer<typeof registerHostBody>;

/** What an operator sees of a host. */
function operatorView(host: HostState) {
  return {
    hostId: host.hostId,
    engine: host.engineUrl,
    provider: host.provider,
    status: host.status,
    orgId: host.orgId ?? null,
    healthy: host.healthy,
    healthDetail: host.healthDetail ?? null,
    draining: host.draining,
    quarantine: host.quarantine ?? null,
    labels: host.labels,
    capacity: host.capacity,
    used: { ...host.used, runtimes: host.placements.size },
    runtimes: [...host.placements.values()],
    registeredAt: host.registeredAt,
  };
}

/** What a member of the organization a host serves sees of it: no engine address, only its own runtimes. */
function memberView(host: HostState) {
  const { engine: _engine, provider: _provider, quarantine: _quarantine, ...view } = operatorView(host);
  return view;
}

/**
 * The host registry (platform operators: host.manage on `system`) and what an organization's
 * members may read of the hosts assigned to it (org.read).
 */
@ApiTags('placement')
@Controller('v1')
export class HostsController {
  constructor(
    private readonly hosts: HostCommands,
    private readonly projection: PlacementViewProjection,
    private readonly wiper: Wiper,
  ) {}

  @Post('hosts')
  @RequirePermission('host.manage', platform, OPERATORS_ONLY)
  @ApiOperation({
    summary: 'Register a host (its engine is pinged first; nothing is kept if it does not answer)',
  })
  async register(
    @Body(validate(registerHostBody)) body: RegisterHost,
    @CurrentPrincipal() principal: Principal,
  ) {
    const hostId = body.hostId ?? `host-${randomBytes(3).toString('hex')}`;
    const { state } = await this.hosts.register(
      { hostId, engineUrl: body.engine, provider: 'static', capacity: body.capacity, labels: body.labels },
      actorOf(principal),
    );
    return operatorView(state!);
  }

  @Get('hosts')
  @RequirePermission('host.manage', platform, OPERATORS_ONLY)
  @ApiOperation({ summary: 'Every host: whose it is, its health, what runs there' })
  list() {
    return { items: [...this.projection.view.index.all()].sort(byId).map(operatorView) };
  }

  @Get('hosts/:hostId')
  @RequirePermission('host.manage', platform, OPERATORS_ONLY)
  show(@Param('hostId', validate(hostIdSchema)) hostId: string) {
    return operatorView(this.host(hostId));
  }

  @Post('hosts/:hostId/drain')
  @HttpCode(200)
  @RequirePermission('host.manage', platform, OPERATORS_ONLY)
  @ApiOperation({ summary: 'Place nothing new on a host; its runtimes run until they sleep' })
  async drain(
    @Param('hostId', validate(hostIdSchema)) hostId: string,
    @CurrentPrincipal() principal: Principal,
  ) {
    const { state } = await this.hosts.execute(
      hostId,
      { type: 'drain', by: actorOf(principal) },
      actorOf(principal),
    );
    return operatorView(state!);
  }

  @Post('hosts/:hostId/release')
  @HttpCode(202)
  @RequirePermission('host.manage', platform, OPERATORS_ONLY)
  @ApiOperation({
    summary:
      'Release a host from its organization: evict its runtimes, wipe its engine (host.wiped or host.quarantined)',
  })
  async release(
    @Param('hostId', validate(hostIdSchema)) hostId: string,
    @CurrentPrincipal() principal: Principal,
  ) {
    const { state } = await this.hosts.execute(
      hostId,
      { type: 'release', by: actorOf(principal) },
      actorOf(principal),
    );
    this.wiper.start(hostId);
    return operatorView(state!);
  }

  @Delete('hosts/:hostId')
  @RequirePermission('host.manage', platform, OPERATORS_ONLY)
  @ApiOperation({ summary: 'Remove a host of no organization (free or quarantined)' })
  async remove(
    @Param('hostId', validate(hostIdSchema)) hostId: string,
    @CurrentPrincipal() principal: Principal,
  ) {
    await this.hosts.remove(hostId, actorOf(principal));
    return { hostId, removed: true };
  }

  @Get('placement/failures')
  @RequirePermission('host.manage', platform, OPERATORS_ONLY)
  @ApiOperation({ summary: 'The latest refused placements (all organizations) and why' })
  failures() {
    return { items: [...this.projection.view.failures()].reverse() };
  }

  @Get('placement/violations')
  @RequirePermission('host.manage', platform, OPERATORS_ONLY)
  @ApiOperation({ summary: 'What the drift detector found lately' })
  violations() {
    return { items: [...this.projection.view.violations()].reverse() };
  }

  @Get('orgs/:orgId/hosts')
  @RequirePermission('org.read', fromPath('orgId'))
  @ApiOperation({ summary: "The hosts assigned to an organization (its members' view)" })
  orgHosts(@Param('orgId', validate(orgIdSchema)) orgId: string) {
    return { items: [...this.projection.view.index.hostsOf(orgId)].sort(byId).map(memberView) };
  }

  @Get('orgs/:orgId/hosts/:hostId')
  @RequirePermission('org.read', fromPath('orgId'))
  orgHost(
    @Param('orgId', validate(orgIdSchema)) orgId: string,
    @Param('hostId', validate(hostIdSchema)) hostId: string,
  ) {
    const host = this.projection.view.index.host(hostId);
    if (!host || host.status !== 'assigned' || host.orgId !== orgId) throw hostNotFound();
    return memberView(host);
  }

  @Get('orgs/:orgId/placement/failures')
  @RequirePermission('org.read', fromPath('orgId'))
  @ApiOperation({ summary: "The organization's latest refused placements and why" })
  orgFailures(@Param('orgId', validate(orgIdSchema)) orgId: string) {
    return {
      items: this.projection.view
        .failures()
        .filter((f) => f.orgId === orgId)
        .reverse(),
    };
  }

  private host(hostId: string): HostState {
    const host = this.projection.view.index.host(hostId);
    if (!host) throw hostNotFound();
    return host;
  }
}

const byId = (a: HostState, b: HostState) => (a.hostId < b.hostId ? -1 : a.hostId > b.hostId ? 1 : 0);
const hostNotFound = () => new RuleError(404, 'host_not_found', 'There is no such host.');
