import { Inject, Injectable } from '@nestjs/common';
import { counter } from '@palisade/observability';
import { SERVICE_CONFIG, SERVICE_LOGGER } from '@palisade/runtime';
import type { Logger } from 'pino';
import { HostCommands } from '../commands/host.commands';
import type { HostState } from '../domain/host.state';
import { EngineUnreachableError } from '../engine/engine-client';
import { Engines } from '../engine/engines';
import type { PlacementConfig } from '../placement.config';
import { PlacementViewProjection } from '../projections/placement-view.projection';
import { forEachLimited, PeriodicWorker } from './periodic';

const wipes = () => counter('palisade_placement_wipes_total', 'Host wipes, by outcome', ['outcome']);

/**
 * Wipes released hosts: every container, volume, network and image beyond the engine's
 * baseline (an organization's runtimes' objects, found by listing everything, labelled or not),
 * then lists the engine again. Empty: host.wiped, and the host is free. Anything left, or an
 * engine that does not answer: host.quarantined with the reason. Hosts still `wiping` (a
 * crash mid-wipe) are picked up again on the next round.
 */
@Injectable()
export class Wiper extends PeriodicWorker {
  private readonly active = new Map<string, Promise<void>>();

  constructor(
    @Inject(SERVICE_CONFIG) config: PlacementConfig,
    private readonly projection: PlacementViewProjection,
    private readonly hosts: HostCommands,
    private readonly engines: Engines,
    @Inject(SERVICE_LOGGER) logger: Logger,
  ) {
    super(config.PLACEMENT_HEALTH_INTERVAL_MS, logger, 'wipe round');
  }

  override async onApplicationShutdown(): Promise<void> {
    await super.onApplicationShutdown();
    await Promise.all(this.active.values());
  }

  /** One round over every host (tests call runRound() rather than wait for the timer). */
  protected override round(): Promise<void> {
    const waiting = [...this.projection.view.index.all()].filter((h) => h.status === 'wiping');
    return forEachLimited(waiting, 4, (host) => this.wipe(host.hostId));
  }

  /** Starts wiping a host that was just released (errors are logged; the next round retries). */
  start(hostId: string): void {
    this.wipe(hostId).catch((error: unknown) =>
      this.logger.warn({ err: error, hostId }, 'wipe failed; the next round tries again'),
    );
  }

  /** Wipes one released host (joins a wipe of it already running). */
  wipe(hostId: string): Promise<void> {
    let running = this.active.get(hostId);
    if (!running) {
      running = this.run(hostId).finally(() => this.active.delete(hostId));
      this.active.set(hostId, running);
    }
    return running;
  }

  private async run(hostId: string): Promise<void> {
    const host: HostState | undefined = this.projection.view.index.host(hostId);
    if (host?.status !== 'wiping') return;
    let outcome;
    try {
      outcome = await this.engines.get(host.engineUrl).wipe(host.baseline);
    } catch (error) {
      const reason = error instanceof EngineUnreachableError ? 'engine_unreachable' : 'wipe_failed';
      return this.quarantine(host, reason, `the wipe could not finish: ${(error as Error).message}`);
    }
    if (outcome.describeRemaining !== 'nothing')
      return this.quarantine(
        host,
        'engine_not_empty',
        `after the wipe the engine still holds ${outcome.describeRemaining}${
          outcome.failures.length ? ` (${outcome.failures.slice(0, 3).join('; ')})` : ''
        }`,
      );
    await this.hosts.execute(hostId, { type: 'recordWipe', removed: outcome.removed }, 'system');
    wipes().inc({ outcome: 'wiped' });
    this.logger.info(
      { hostId, orgId: host.orgId, removed: outcome.removed },
      'host wiped and back in the free pool',
    );
  }

  private async quarantine(
    host: HostState,
    reason: 'engine_unreachable' | 'wipe_failed' | 'engine_not_empty',
    detail: string,
  ): Promise<void> {
    await this.hosts.execute(host.hostId, { type: 'quarantine', reason, detail }, 'system');
    wipes().inc({ outcome: reason });
    this.logger.error(
      { hostId: host.hostId, orgId: host.orgId, reason, detail },
      'host quarantined: the wipe failed',
    );
  }
}
