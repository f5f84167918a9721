import { PlacementDecision, ProviderOffer, REFUSE } from '../src/domain/decision';
import {
  fillAfter,
  fitsEmpty,
  HostState,
  labelsMatch,
  PlacementQuery,
  placeRefusal,
} from '../src/domain/host.state';

/**
 * The naive placement decision: one pass over every host. It decides exactly as
 * decidePlacement does (the property tests hold them to it); the bench runs it beside the
 * indexed decision to show what the index saves.
 */
export function scanPlacement(
  hosts: Iterable<HostState>,
  knowsOrganization: (orgId: string) => boolean,
  query: PlacementQuery,
  offer?: ProviderOffer,
): PlacementDecision {
  if (!knowsOrganization(query.orgId)) return REFUSE.unknownOrganization;
  let own: { fill: number; hostId: string } | undefined;
  let free: { fill: number; hostId: string } | undefined;
  let matching = false;
  let bigEnough = false;
  for (const host of hosts) {
    if (host.status === 'removed') continue;
    if (labelsMatch(host.labels, query.labels)) {
      matching = true;
      if (fitsEmpty(host.capacity, query)) bigEnough = true;
    }
    if (placeRefusal(host, query) !== undefined) continue;
    const fill = fillAfter(host, query);
    const candidate = { fill, hostId: host.hostId };
    if (host.status === 'assigned') {
      if (!own || fill > own.fill || (fill === own.fill && host.hostId < own.hostId)) own = candidate;
    } else if (!free || fill > free.fill || (fill === free.fill && host.hostId < free.hostId))
      free = candidate;
  }
  if (own) return { kind: 'place', hostId: own.hostId, assign: false };
  if (free) return { kind: 'place', hostId: free.hostId, assign: true };
  if (offer && labelsMatch(offer.labels, query.labels) && fitsEmpty(offer.capacity, query))
    return { kind: 'provision' };
  if (!matching)
    return query.labels && Object.keys(query.labels).length ? REFUSE.noMatchingHost : REFUSE.noHosts;
  return bigEnough ? REFUSE.noCapacity : REFUSE.tooLarge;
}
