import type { HostCapacity, HostLabels, PlacementFailureReason } from '@palisade/contracts';
import { fillAfter, fitsEmpty, HostState, labelsMatch, PlacementQuery, placeRefusal } from './host.state';

/** What a provider would add if asked: the capacity and labels of its new hosts. */
export interface ProviderOffer {
  readonly capacity: HostCapacity;
  readonly labels: HostLabels;
}

/** A class of interchangeable free hosts (same capacity and labels), with the lowest host id first. */
export interface FreeClass {
  readonly capacity: HostCapacity;
  readonly labels: HostLabels;
  readonly first: HostState;
}

/** What the decision reads: an index of hosts (see HostIndex), never a scan of all of them. */
export interface PlacementCandidates {
  knowsOrganization(orgId: string): boolean;
  /** The hosts assigned to the organization (whatever their health). */
  hostsOf(orgId: string): Iterable<HostState>;
  /** The free pool (free, healthy, not draining), by class. */
  freeClasses(): Iterable<FreeClass>;
  /** Every registered host whose labels match (only read to explain a refusal). */
  hostsMatching(labels: HostLabels | undefined): Iterable<HostState>;
}

export interface Refusal {
  readonly kind: 'refuse';
  readonly reason: PlacementFailureReason;
  readonly message: string;
  readonly retryAfterMs?: number;
}

export type PlacementDecision =
  | { readonly kind: 'place'; readonly hostId: string; readonly assign: boolean }
  | { readonly kind: 'provision' }
  | Refusal;

/** How long a caller should wait before asking again when hosts are full. */
export const NO_CAPACITY_RETRY_MS = 5_000;
/** ... when the host provider failed to add a host. */
export const PROVIDER_RETRY_MS = 10_000;
/** ... when other placements kept winning the race for the chosen hosts. */
export const CONTENTION_RETRY_MS = 100;

function refusal(reason: PlacementFailureReason, message: string, retryAfterMs?: number): Refusal {
  return Object.freeze({
    kind: 'refuse',
    reason,
    message,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}

/** The stable refusals (callers and tests match on `reason`). */
export const REFUSE = {
  unknownOrganization: refusal(
    'unknown_organization',
    'placement knows no such organization; create it first (or wait a moment if it was just created)',
  ),
  noMatchingHost: refusal(
    'no_matching_host',
    'no registered host carries the labels asked for; register one with them (palisade host add --label ...) or ask for other labels',
  ),
  tooLarge: refusal(
    'too_large',
    'no registered host is large enough for this runtime; lower its cpu or memory, or register a larger host',
  ),
  noCapacity: refusal(
    'no_capacity',
    "the organization's hosts are full and no free host fits; ask again later, or register more hosts",
    NO_CAPACITY_RETRY_MS,
  ),
  noHosts: refusal(
    'no_capacity',
    'no host is registered; an operator adds one with palisade host add',
    NO_CAPACITY_RETRY_MS,
  ),
  providerFailed: refusal(
    'provider_failed',
    'no host had room and the host provider could not add one; ask again later (the service log says why)',
    PROVIDER_RETRY_MS,
  ),
  contention: refusal(
    'contention',
    'other placements kept taking the hosts this one chose; ask again',
    CONTENTION_RETRY_MS,
  ),
  runtimeExists: refusal(
    'runtime_exists',
    'this runtime id is already placed for another organization; a new wake needs a new runtime id',
  ),
} as const;

const PROVISION = Object.freeze({ kind: 'provision' as const });
const placeOn = (hostId: string, assign: boolean) => ({ kind: 'place' as const, hostId, assign });

/** `a` beats `b`: fuller after the placement (best fit), then the lower host id. */
function better(fill: number, hostId: string, best: { fill: number; hostId: string } | undefined): boolean {
  return !best || fill > best.fill || (fill === best.fill && hostId < best.hostId);
}

/**
 * The one placement decision: where does this runtime go, given the hosts placement knows?
 * First a host of the organization with room (best fit), else a free host (best fit; assigning
 * it), else a new host from the provider (`offer`, when it has one that fits), else a refusal
 * with a stable reason. Labels are constraints. A host of another organization, or one that is
 * unhealthy, draining, being wiped or quarantined, is never a candidate.
 */
export function decidePlacement(
  candidates: PlacementCandidates,
  query: PlacementQuery,
  offer?: ProviderOffer,
): PlacementDecision {
  if (!candidates.knowsOrganization(query.orgId)) return REFUSE.unknownOrganization;

  let best: { fill: number; hostId: string } | undefined;
  for (const host of candidates.hostsOf(query.orgId)) {
    if (placeRefusal(host, query) !== undefined) continue;
    const fill = fillAfter(host, query);
    if (better(fill, host.hostId, best)) best = { fill, hostId: host.hostId };
  }
  if (best) return placeOn(best.hostId, false);

  for (const free of candidates.freeClasses()) {
    if (!labelsMatch(free.labels, query.labels) || placeRefusal(free.first, query) !== undefined) continue;
    const fill = fillAfter(free.first, query);
    if (better(fill, free.first.hostId, best)) best = { fill, hostId: free.first.hostId };
  }
  if (best) return placeOn(best.hostId, true);

  if (offer && labelsMatch(offer.labels, query.labels) && fitsEmpty(offer.capacity, query)) return PROVISION;
  return explainRefusal(candidates, query);
}

/** Why nothing fits: no host with these labels, none large enough, or all full for now. */
function explainRefusal(candidates: PlacementCandidates, query: PlacementQuery): Refusal {
  let matching = false;
  for (const host of candidates.hostsMatching(query.labels)) {
    matching = true;
    if (fitsEmpty(host.capacity, query)) return REFUSE.noCapacity;
  }
  if (!matching)
    return query.labels && Object.keys(query.labels).length ? REFUSE.noMatchingHost : REFUSE.noHosts;
  return REFUSE.tooLarge;
}
