import { DynamicModule, Module } from '@nestjs/common';
import { PLACEMENT, PLACEMENT_EVENTS } from '@palisade/contracts';
import { serviceAccessTokenProviders } from '@palisade/auth';
import { ServiceRuntimeModule, serviceRuntimeOptions } from '@palisade/runtime';
import { placementMigrations } from '../migrations';
import { HostCommands } from './commands/host.commands';
import {
  DecideFn,
  indexedDecision,
  PLACEMENT_DECISION,
  PlacementCommands,
} from './commands/placement.commands';
import { OrganizationsConsumer } from './consumers/organizations.consumer';
import { RuntimeEndedConsumer } from './consumers/runtime-ended.consumer';
import { Engines } from './engine/engines';
import { HostsController } from './http/hosts.controller';
import { PlacementConfig } from './placement.config';
import { PlacementViewProjection } from './projections/placement-view.projection';
import { HOST_PROVIDER, StaticHostProvider } from './providers/host-provider';
import { LocalHostProvider } from './providers/local.provider';
import { PlacementRpcHandlers } from './rpc/placement.rpc';
import { DevHost } from './workers/dev-host';
import { DriftDetector } from './workers/drift.detector';
import { HealthMonitor } from './workers/health.monitor';
import { Wiper } from './workers/wiper';

/** The placement service's root module: mounted by its own main.ts and by `palisade dev` / `serve`. */
@Module({})
export class PlacementModule {
  /** `options.decide`: how placements are decided (default: decidePlacement over the index; the bench compares a full scan). */
  static register(config: PlacementConfig, options: { decide?: DecideFn } = {}): DynamicModule {
    return {
      module: PlacementModule,
      imports: [
        ServiceRuntimeModule.forService(
          serviceRuntimeOptions(PLACEMENT, PLACEMENT_EVENTS, placementMigrations, config),
        ),
      ],
      controllers: [HostsController, PlacementRpcHandlers, RuntimeEndedConsumer, OrganizationsConsumer],
      providers: [
        PlacementViewProjection,
        Engines,
        HostCommands,
        PlacementCommands,
        { provide: PLACEMENT_DECISION, useValue: options.decide ?? indexedDecision },
        LocalHostProvider,
        {
          provide: HOST_PROVIDER,
          inject: [LocalHostProvider],
          useFactory: (local: LocalHostProvider) =>
            config.PLACEMENT_PROVIDER === 'local' ? local : new StaticHostProvider(),
        },
        HealthMonitor,
        Wiper,
        DriftDetector,
        DevHost,
        // Who calls (identity's JWKS over NATS) and what they may do (authorization over NATS).
        ...serviceAccessTokenProviders(config),
      ],
      exports: [
        PlacementViewProjection,
        HostCommands,
        PlacementCommands,
        HealthMonitor,
        Wiper,
        DriftDetector,
      ],
    };
  }
}
