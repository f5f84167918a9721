import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { ensureCommand } from '@palisade/config';
import { DockerEngineHandle, startDockerEngine } from '@palisade/embedded';
import { SERVICE_CONFIG, SERVICE_LOGGER } from '@palisade/runtime';
import type { Logger } from 'pino';
import type { ProviderOffer } from '../domain/decision';
import type { PlacementConfig } from '../placement.config';
import { PlacementViewProjection } from '../projections/placement-view.projection';
import { HostProvider, ProvisionedHost } from './host-provider';

/**
 * The local provider: a new host is another dockerd on this machine, with its own data root,
 * exec root and socket under PLACEMENT_LOCAL_DIR/<hostId> (and the isolated flags of
 * libs/embedded: no bridge, no iptables). Its engines run while this service runs: they are
 * started again at start-up for the local hosts that are registered, stopped at shutdown, and
 * stopped for good (their folder deleted) when their host is removed.
 */
@Injectable()
export class LocalHostProvider implements HostProvider, OnApplicationShutdown {
  readonly name = 'local' as const;
  private readonly engines = new Map<string, DockerEngineHandle>();
  private starting = 0;
  private resumed?: Promise<void>;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: PlacementConfig,
    private readonly projection: PlacementViewProjection,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {}

  offer(): ProviderOffer | undefined {
    let hosts = this.starting;
    for (const host of this.projection.view.index.all()) if (host.provider === 'local') hosts++;
    if (hosts >= this.config.PLACEMENT_LOCAL_MAX_HOSTS) return undefined;
    return { capacity: this.config.PLACEMENT_LOCAL_CAPACITY, labels: {} };
  }

  async provision(): Promise<ProvisionedHost> {
    this.starting++;
    try {
      const hostId = `local-${randomBytes(3).toString('hex')}`;
      const engine = await this.start(hostId);
      return { hostId, engineUrl: engine.url, capacity: this.config.PLACEMENT_LOCAL_CAPACITY, labels: {} };
    } finally {
      this.starting--;
    }
  }

  async decommission(hostId: string): Promise<void> {
    const engine = this.engines.get(hostId);
    this.engines.delete(hostId);
    await engine?.stop();
    fs.rmSync(this.folder(hostId), { recursive: true, force: true });
  }

  /**
   * Starts the engines of the registered local hosts (once; later calls wait for it). An engine
   * left running by a process that died is stopped and started again, so that this process
   * holds it and stops it at shutdown.
   */
  resume(): Promise<void> {
    this.resumed ??= (async () => {
      for (const host of this.projection.view.index.all()) {
        if (host.provider !== 'local' || this.engines.has(host.hostId)) continue;
        try {
          await this.start(host.hostId);
          this.logger.info({ hostId: host.hostId }, 'local host engine started');
        } catch (error) {
          this.logger.warn(
            { hostId: host.hostId, err: error },
            'local host engine could not start; it will be marked unhealthy',
          );
        }
      }
    })();
    return this.resumed;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.engines.values()].map((engine) => engine.stop().catch(() => undefined)));
    this.engines.clear();
  }

  private folder(hostId: string): string {
    return path.join(path.resolve(this.config.PLACEMENT_LOCAL_DIR), hostId);
  }

  private async start(hostId: string): Promise<DockerEngineHandle> {
    const binary = ensureCommand({
      command: 'dockerd',
      debianPackage: 'docker.io',
      purpose: 'the Docker engine of hosts the local provider starts',
    });
    const engine = await startDockerEngine({ dir: this.folder(hostId), binary });
    this.engines.set(hostId, engine);
    return engine;
  }
}
