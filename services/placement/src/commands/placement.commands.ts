import { Inject, Injectable } from '@nestjs/common';
import type { PlaceReply, PlaceRequest } from '@palisade/contracts';
import { counter } from '@palisade/observability';
import { ConcurrencyConflictError } from '@palisade/persistence';
import type { Clock } from '@palisade/domain';
import { CLOCK, SERVICE_LOGGER, ServiceRuntime } from '@palisade/runtime';
import type { Logger } from 'pino';
import { decidePlacement, PlacementDecision, ProviderOffer, Refusal, REFUSE } from '../domain/decision';
import type { PlacementQuery } from '../domain/host.state';
import { RuleError } from '@palisade/domain';
import type { HostState } from '../domain/host.state';
import type { PlacementView } from '../projections/placement-view';
import { PlacementViewProjection } from '../projections/placement-view.projection';
import { HOST_PROVIDER } from '../providers/host-provider';
import type { HostProvider } from '../providers/host-provider';
import { HostCommands } from './host.commands';

/** How a placement is decided on the view: decidePlacement over its index (a bench swaps in a full scan). */
export type DecideFn = (
  view: PlacementView,
  query: PlacementQuery,
  offer?: ProviderOffer,
) => PlacementDecision;
export const PLACEMENT_DECISION = Symbol.for('palisade.placement.decision');
export const indexedDecision: DecideFn = (view, query, offer) => decidePlacement(view.index, query, offer);

/** Decisions in a row that may lose their host to a concurrent placement before the caller is told to retry. */
const MAX_ATTEMPTS = 8;

const decisions = () =>
  counter('palisade_placement_decisions_total', 'Placement requests answered, by outcome', ['outcome']);

const placed = (host: HostState): PlaceReply => ({
  placed: true,
  hostId: host.hostId,
  engine: { url: host.engineUrl },
});

/**
 * The placement write path: decide (in process, on the index), then place on the chosen host's
 * stream with optimistic concurrency; a lost race decides again on the fresh state. A refusal
 * is recorded as placement.failed and answered with its reason and retry hint.
 */
@Injectable()
export class PlacementCommands {
  constructor(
    private readonly runtime: ServiceRuntime,
    private readonly projection: PlacementViewProjection,
    private readonly hosts: HostCommands,
    @Inject(HOST_PROVIDER) private readonly provider: HostProvider,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(PLACEMENT_DECISION) private readonly decide: DecideFn,
  ) {}

  async place(request: PlaceRequest, actor: string): Promise<PlaceReply> {
    const view = this.projection.view;
    const existing = view.index.hostOfRuntime(request.runtimeId);
    if (existing) {
      // Asking twice (a retry after a lost reply) gets the same answer.
      if (existing.placements.get(request.runtimeId)!.orgId !== request.orgId)
        return this.refuse(request, REFUSE.runtimeExists, actor);
      decisions().inc({ outcome: 'placed' });
      return placed(existing);
    }
    const query = {
      orgId: request.orgId,
      cpuMillis: request.resources.cpuMillis,
      memoryBytes: request.resources.memoryBytes,
      labels: request.labels,
    };
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const decision = this.decide(view, query, this.provider.offer());
      if (decision.kind === 'refuse') return this.refuse(request, decision, actor);
      if (decision.kind === 'provision') {
        try {
          await this.provisionHost();
        } catch (error) {
          this.logger.error(
            { err: error, provider: this.provider.name },
            'the host provider could not add a host',
          );
          return this.refuse(request, REFUSE.providerFailed, actor);
        }
        continue;
      }
      try {
        const { state } = await this.hosts.execute(
          decision.hostId,
          { type: 'place', ...query, workspaceId: request.workspaceId, runtimeId: request.runtimeId },
          actor,
          { conflictRetries: 1 },
        );
        decisions().inc({ outcome: 'placed' });
        return placed(state!);
      } catch (error) {
        // The host changed under this decision (taken, filled, gone): the view holds its news now.
        if (error instanceof RuleError || error instanceof ConcurrencyConflictError) continue;
        throw error;
      }
    }
    return this.refuse(request, REFUSE.contention, actor);
  }

  /** Gives a runtime's place back; false when it held none. */
  async unplace(runtimeId: string, reason: 'unplaced' | 'slept' | 'failed', actor: string): Promise<boolean> {
    let host = this.projection.view.index.hostOfRuntime(runtimeId);
    if (!host) {
      // Placed by another replica a moment ago, perhaps: read what is new first.
      await this.projection.kick();
      host = this.projection.view.index.hostOfRuntime(runtimeId);
    }
    if (!host) return false;
    const { events } = await this.hosts.execute(host.hostId, { type: 'unplace', runtimeId, reason }, actor);
    return events.length > 0;
  }

  private async refuse(request: PlaceRequest, refusal: Refusal, actor: string): Promise<PlaceReply> {
    decisions().inc({ outcome: refusal.reason });
    await this.runtime.store.append(this.runtime.db, {
      streamId: `placement/${request.runtimeId}`,
      expectedVersion: 'any',
      events: [
        {
          type: 'placement.failed',
          data: {
            orgId: request.orgId,
            workspaceId: request.workspaceId,
            runtimeId: request.runtimeId,
            reason: refusal.reason,
            message: refusal.message,
            retryAfterMs: refusal.retryAfterMs,
            failedAt: new Date(this.clock.now()).toISOString(),
          },
        },
      ],
      metadata: { orgId: request.orgId, actor },
    });
    return {
      placed: false,
      reason: refusal.reason,
      message: refusal.message,
      ...(refusal.retryAfterMs === undefined ? {} : { retryAfterMs: refusal.retryAfterMs }),
    };
  }

  /** A new host from the provider, registered (and stopped again if it cannot be). */
  private async provisionHost(): Promise<void> {
    const host = await this.provider.provision();
    try {
      await this.hosts.register({ ...host, provider: this.provider.name }, 'system');
    } catch (error) {
      await this.provider.decommission(host.hostId).catch(() => undefined);
      throw error;
    }
    this.logger.info({ hostId: host.hostId, provider: this.provider.name }, 'the host provider added a host');
  }
}
