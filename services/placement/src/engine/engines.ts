import { Inject, Injectable } from '@nestjs/common';
import { SERVICE_CONFIG } from '@palisade/runtime';
import type { PlacementConfig } from '../placement.config';
import { EngineClient } from './engine-client';

/** One EngineClient per engine URL, with the service's timeout and TLS folder. */
@Injectable()
export class Engines {
  private readonly clients = new Map<string, EngineClient>();

  constructor(@Inject(SERVICE_CONFIG) private readonly config: PlacementConfig) {}

  /** The client of an engine (throws EngineUnreachableError for a URL it cannot use). */
  get(url: string): EngineClient {
    let client = this.clients.get(url);
    if (!client) {
      client = new EngineClient(url, {
        tlsDir: this.config.PLACEMENT_ENGINE_TLS_DIR,
        timeoutMs: this.config.PLACEMENT_ENGINE_TIMEOUT_MS,
      });
      this.clients.set(url, client);
    }
    return client;
  }
}
