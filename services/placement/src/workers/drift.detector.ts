import { Inject, Injectable } from '@nestjs/common';
import { SYSTEM_ORG } from '@palisade/contracts';
import { counter } from '@palisade/observability';
import type { Clock } from '@palisade/domain';
import { CLOCK, SERVICE_CONFIG, SERVICE_LOGGER, ServiceRuntime } from '@palisade/runtime';
import type { Logger } from 'pino';
import type { HostState } from '../domain/host.state';
import { findViolations, Violation } from '../domain/inventory';
import { Engines } from '../engine/engines';
import type { PlacementConfig } from '../placement.config';
import { PlacementViewProjection } from '../projections/placement-view.projection';
import { forEachLimited, PeriodicWorker } from './periodic';

const violations = () =>
  counter('palisade_placement_violations_total', 'Drift the detector found on engines, by kind', ['kind']);

const signature = (v: Violation) => `${v.kind}:${v.objects.map((o) => `${o.kind}/${o.id}`).join(',')}`;

/**
 * The drift detector, a reconciler that only reports: every PLACEMENT_DRIFT_INTERVAL_MS it
 * lists what runs on every healthy engine (labelled and unlabeled containers, labelled volumes)
 * and compares it with which organization the host serves. A violation is raised once (event
 * placement.violation, the metric palisade_placement_violations_total, a log at error) and
 * again only when what is found changes.
 */
@Injectable()
export class DriftDetector extends PeriodicWorker {
  /** What was last reported per host (the signatures of its violations). */
  private readonly reported = new Map<string, Set<string>>();

  constructor(
    @Inject(SERVICE_CONFIG) config: PlacementConfig,
    private readonly runtime: ServiceRuntime,
    private readonly projection: PlacementViewProjection,
    private readonly engines: Engines,
    @Inject(SERVICE_LOGGER) logger: Logger,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    super(config.PLACEMENT_DRIFT_INTERVAL_MS, logger, 'drift detection round');
  }

  /** One round over every host (tests call runRound() rather than wait for the timer). */
  protected override round(): Promise<void> {
    const hosts = [...this.projection.view.index.all()].filter((h) => h.healthy);
    return forEachLimited(hosts, 8, (host) => this.check(host));
  }

  private async check(host: HostState): Promise<void> {
    let found: Violation[];
    try {
      found = findViolations(host, await this.engines.get(host.engineUrl).inventory());
    } catch {
      return; // an engine that does not answer is the health monitor's news
    }
    const before = this.reported.get(host.hostId) ?? new Set<string>();
    const now = new Set(found.map(signature));
    this.reported.set(host.hostId, now);
    for (const violation of found) {
      if (before.has(signature(violation))) continue;
      await this.runtime.store.append(this.runtime.db, {
        streamId: `drift/${host.hostId}`,
        expectedVersion: 'any',
        events: [
          {
            type: 'placement.violation',
            data: {
              hostId: host.hostId,
              assignedOrgId: host.status === 'assigned' ? host.orgId : undefined,
              kind: violation.kind,
              orgIds: violation.orgIds,
              objects: violation.objects,
              detectedAt: new Date(this.clock.now()).toISOString(),
            },
          },
        ],
        metadata: { orgId: SYSTEM_ORG, actor: 'system' },
      });
      violations().inc({ kind: violation.kind });
      this.logger.error(
        { hostId: host.hostId, assignedOrgId: host.orgId, kind: violation.kind, orgIds: violation.orgIds },
        'placement violation: the engine holds what its organization does not own',
      );
    }
  }
}
