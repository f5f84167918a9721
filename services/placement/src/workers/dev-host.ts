import { createHash } from 'node:crypto';
import os from 'node:os';
import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { SERVICE_CONFIG, SERVICE_LOGGER } from '@palisade/runtime';
import type { Logger } from 'pino';
import { HostCommands } from '../commands/host.commands';
import type { PlacementConfig } from '../placement.config';
import { PlacementViewProjection } from '../projections/placement-view.projection';
import { LocalHostProvider } from '../providers/local.provider';

/** What a development host offers: this machine's cores and memory, and room for 20 runtimes. */
function machineCapacity() {
  return { cpuMillis: os.cpus().length * 1000, memoryBytes: os.totalmem(), runtimes: 20 };
}

/**
 * `palisade dev`'s one host (PLACEMENT_DEV_ENGINE): the user's own engine, registered as host
 * `dev-<hash of its URL>` when it is not registered yet, or (`local`) one engine of the local
 * provider, started now or again. A dev host is an ordinary host: assigned on first use,
 * wiped on release (down to what the engine held when it was registered).
 */
@Injectable()
export class DevHost implements OnApplicationBootstrap {
  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: PlacementConfig,
    private readonly projection: PlacementViewProjection,
    private readonly hosts: HostCommands,
    private readonly local: LocalHostProvider,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const engine = this.config.PLACEMENT_DEV_ENGINE;
    // Local hosts run while a local provider is in use (their engines start again with it).
    if (engine === 'local' || this.config.PLACEMENT_PROVIDER === 'local') await this.local.resume();
    if (!engine) return;
    try {
      if (engine === 'local') await this.localHost();
      else await this.ownEngine(engine);
    } catch (error) {
      this.logger.warn(
        { err: error, engine },
        'the development host could not be registered; runtimes cannot wake',
      );
    }
  }

  private async ownEngine(url: string): Promise<void> {
    const hostId = `dev-${createHash('sha256').update(url).digest('hex').slice(0, 8)}`;
    if (this.projection.view.index.host(hostId)) return;
    await this.hosts.register(
      { hostId, engineUrl: url, provider: 'static', capacity: machineCapacity(), labels: {} },
      'system',
    );
    this.logger.info({ hostId, engine: url }, 'your Docker engine is registered as the development host');
  }

  private async localHost(): Promise<void> {
    for (const host of this.projection.view.index.all()) if (host.provider === 'local') return;
    const host = await this.local.provision();
    await this.hosts.register({ ...host, provider: 'local', capacity: machineCapacity() }, 'system');
    this.logger.info(
      { hostId: host.hostId, engine: host.engineUrl },
      'a local Docker engine is the development host',
    );
  }
}
