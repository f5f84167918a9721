import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { RuleError } from '@palisade/domain';
import type { Clock } from '@palisade/domain';
import { ConcurrencyConflictError } from '@palisade/persistence';
import { CLOCK, SERVICE_CONFIG, SERVICE_LOGGER } from '@palisade/runtime';
import type { Logger } from 'pino';
import type { AuthorizationConfig } from '../authorization.config';
import { SYSTEM_ACTOR } from '../domain/organization.decider';
import { AuthzViewProjection } from '../projections/authz-view.projection';
import { OrganizationCommands } from './organization.commands';

/**
 * Closes out approved elevations once their window has passed (elevation.expired +
 * elevation.closed). Root already ends at expiresAt in every check; this records it. Replicas
 * may race: the loser's command is refused by the decider and changes nothing.
 */
@Injectable()
export class ElevationSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<number>;

  constructor(
    private readonly projection: AuthzViewProjection,
    private readonly commands: OrganizationCommands,
    @Inject(SERVICE_CONFIG) private readonly config: AuthorizationConfig,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.sweeping ??= this.sweep().finally(() => (this.sweeping = undefined));
    }, this.config.AUTHORIZATION_ELEVATION_SWEEP_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.sweeping;
  }

  async sweep(now = this.clock.now()): Promise<number> {
    let closed = 0;
    for (const { orgId, elevationId } of [...this.projection.view.expiredElevations(now)]) {
      try {
        await this.commands.execute(orgId, { type: 'expireElevation', elevationId }, SYSTEM_ACTOR, now);
        closed++;
      } catch (error) {
        if (error instanceof RuleError || error instanceof ConcurrencyConflictError) continue;
        this.logger.warn({ err: error, orgId, elevationId }, 'could not close out an expired elevation');
      }
    }
    return closed;
  }
}
