import { Inject, Injectable } from '@nestjs/common';
import { SERVICE_CONFIG, SERVICE_LOGGER } from '@palisade/runtime';
import type { Logger } from 'pino';
import { HostCommands } from '../commands/host.commands';
import { Engines } from '../engine/engines';
import type { PlacementConfig } from '../placement.config';
import { PlacementViewProjection } from '../projections/placement-view.projection';
import { forEachLimited, PeriodicWorker } from './periodic';

/** How many engines are pinged at once. */
const CONCURRENT_PINGS = 32;

/**
 * Pings every host's engine (dockerode) every PLACEMENT_HEALTH_INTERVAL_MS. After
 * PLACEMENT_UNHEALTHY_AFTER failures in a row the host is marked unhealthy, which evicts its
 * runtimes (the runtime-scheduler learns they are lost); one answer marks it healthy again.
 */
@Injectable()
export class HealthMonitor extends PeriodicWorker {
  private readonly failures = new Map<string, number>();
  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: PlacementConfig,
    private readonly projection: PlacementViewProjection,
    private readonly hosts: HostCommands,
    private readonly engines: Engines,
    @Inject(SERVICE_LOGGER) logger: Logger,
  ) {
    super(config.PLACEMENT_HEALTH_INTERVAL_MS, logger, 'host health check');
  }

  /** One round over every host (tests call runRound() rather than wait for the timer). */
  protected override round(): Promise<void> {
    return forEachLimited([...this.projection.view.index.all()], CONCURRENT_PINGS, async (host) => {
      let detail: string | undefined;
      try {
        await this.engines.get(host.engineUrl).ping();
      } catch (error) {
        detail = (error as Error).message;
      }
      if (detail === undefined) {
        this.failures.delete(host.hostId);
        if (!host.healthy) {
          await this.hosts.execute(host.hostId, { type: 'markHealthy' }, 'system');
          this.logger.info({ hostId: host.hostId }, 'host is healthy again');
        }
        return;
      }
      const failed = (this.failures.get(host.hostId) ?? 0) + 1;
      this.failures.set(host.hostId, failed);
      if (host.healthy && failed >= this.config.PLACEMENT_UNHEALTHY_AFTER) {
        const { events } = await this.hosts.execute(host.hostId, { type: 'markUnhealthy', detail }, 'system');
        this.logger.warn(
          { hostId: host.hostId, orgId: host.orgId, evicted: events.length - 1, detail },
          'host is unhealthy: its runtimes are evicted and nothing is placed on it',
        );
      }
    });
  }
}
