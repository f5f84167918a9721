import { Inject, Injectable } from '@nestjs/common';
import { SYSTEM_ORG } from '@palisade/contracts';
import type { HostCapacity, HostLabels, HostProviderName } from '@palisade/contracts';
import { ConcurrencyConflictError, fold } from '@palisade/persistence';
import type { StoredEvent } from '@palisade/persistence';
import { RuleError } from '@palisade/domain';
import type { Clock } from '@palisade/domain';
import { CLOCK, ServiceRuntime } from '@palisade/runtime';
import { hostDecider, HostCommand } from '../domain/host.decider';
import { HostEvent, HostState, hostStreamId } from '../domain/host.state';
import { baselineOf } from '../domain/inventory';
import { EngineUnreachableError } from '../engine/engine-client';
import { Engines } from '../engine/engines';
import { PlacementViewProjection } from '../projections/placement-view.projection';
import { LocalHostProvider } from '../providers/local.provider';

/** Distributive Omit: keeps each command kind's own fields. */
type WithoutClock<C> = C extends unknown ? Omit<C, 'now'> : never;
export type HostCommandInput = WithoutClock<HostCommand>;

export interface HostOutcome {
  events: StoredEvent<HostEvent>[];
  state: HostState | null;
}

export interface Registration {
  hostId: string;
  engineUrl: string;
  provider: HostProviderName;
  capacity: HostCapacity;
  labels: HostLabels;
}

/**
 * Runs commands on a host's aggregate (`host/<hostId>`). It decides on the state this process
 * already holds (the view) and appends with that state's version: optimistic concurrency on the
 * host's stream is what keeps two placements off one free host. A lost race (or a view that has
 * not caught up) reloads the stream from the store and decides again.
 */
@Injectable()
export class HostCommands {
  constructor(
    private readonly runtime: ServiceRuntime,
    private readonly projection: PlacementViewProjection,
    private readonly engines: Engines,
    private readonly local: LocalHostProvider,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(
    hostId: string,
    input: HostCommandInput,
    actor: string,
    options: { now?: number; conflictRetries?: number } = {},
  ): Promise<HostOutcome> {
    const command = { ...input, now: options.now ?? this.clock.now() } as HostCommand;
    const view = this.projection.view;
    let { state, version } = view.hostStream(hostId);
    let reloaded = false;
    for (let attempt = 0; ; attempt++) {
      let events: HostEvent[];
      try {
        events = hostDecider.decide(state, command);
      } catch (error) {
        // A refusal on what this process holds may be a refusal on old news: ask the store once.
        if (!(error instanceof RuleError) || reloaded) throw error;
        ({ state, version } = await this.reload(hostId));
        reloaded = true;
        continue;
      }
      if (events.length === 0) return { events: [], state };
      const next = events.reduce<HostState | null>((s, e) => hostDecider.evolve(s, e), state);
      try {
        const stored = await this.runtime.store.append(this.runtime.db, {
          streamId: hostStreamId(hostId),
          expectedVersion: version,
          events,
          metadata: { orgId: next?.orgId ?? state?.orgId ?? SYSTEM_ORG, actor },
        });
        view.record(hostId, next, version + stored.length);
        return { events: stored, state: next };
      } catch (error) {
        if (!(error instanceof ConcurrencyConflictError) || attempt >= (options.conflictRetries ?? 3))
          throw error;
        ({ state, version } = await this.reload(hostId));
        reloaded = true;
      }
    }
  }

  /**
   * Registers a host: its engine must answer, and what it holds now becomes its baseline.
   * Nothing is written unless all of that worked.
   */
  async register(registration: Registration, actor: string): Promise<HostOutcome> {
    const known = this.projection.view.hostStream(registration.hostId).state;
    if (known && known.status !== 'removed')
      throw new RuleError(409, 'host_exists', `Host ${registration.hostId} is registered already.`);
    let baseline;
    try {
      const engine = this.engines.get(registration.engineUrl);
      await engine.ping();
      baseline = baselineOf(await engine.inventory());
    } catch (error) {
      if (!(error instanceof EngineUnreachableError)) throw error;
      throw new RuleError(
        422,
        'engine_unreachable',
        `The engine at ${registration.engineUrl} did not answer (${error.message}); check the URL and that the engine runs. Nothing was registered.`,
      );
    }
    return this.execute(
      registration.hostId,
      { type: 'register', ...registration, baseline, by: actor },
      actor,
    );
  }

  /** Removes a host of no organization; a local provider's host has its engine stopped. */
  async remove(hostId: string, actor: string): Promise<HostOutcome> {
    const outcome = await this.execute(hostId, { type: 'remove', by: actor }, actor);
    if (outcome.state?.provider === 'local') await this.local.decommission(hostId);
    return outcome;
  }

  /** The host's stream from the store, recorded in the view. */
  private async reload(hostId: string): Promise<{ state: HostState | null; version: number }> {
    const history = await this.runtime.store.readStream<HostEvent>(this.runtime.db, hostStreamId(hostId));
    const state = fold(
      hostDecider,
      history.map((stored) => stored.event),
    );
    this.projection.view.record(hostId, state, history.length);
    return { state, version: history.length };
  }
}
