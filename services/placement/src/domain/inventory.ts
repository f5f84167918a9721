import { RUNTIME_OBJECT_LABELS } from '@palisade/contracts';
import type { EngineBaseline, ViolationKind } from '@palisade/contracts';
import type { HostState } from './host.state';

/** Everything an engine holds, as listed through its API. */
export interface EngineInventory {
  containers: ReadonlyArray<{ id: string; name?: string; labels: Readonly<Record<string, string>> }>;
  volumes: ReadonlyArray<{ name: string; labels: Readonly<Record<string, string>> }>;
  networks: ReadonlyArray<{ id: string; name: string }>;
  images: ReadonlyArray<{ id: string }>;
}

/** What an engine holds at registration: kept by every wipe. */
export function baselineOf(inventory: EngineInventory): EngineBaseline {
  return {
    containers: inventory.containers.map((c) => c.id),
    volumes: inventory.volumes.map((v) => v.name),
    networks: inventory.networks.map((n) => n.id),
    images: inventory.images.map((i) => i.id),
  };
}

/** What is on the engine beyond its baseline: what a wipe removes, and what must be gone after it. */
export function leftovers(inventory: EngineInventory, baseline: EngineBaseline) {
  const kept = {
    containers: new Set(baseline.containers),
    volumes: new Set(baseline.volumes),
    networks: new Set(baseline.networks),
    images: new Set(baseline.images),
  };
  return {
    containers: inventory.containers.filter((c) => !kept.containers.has(c.id)),
    volumes: inventory.volumes.filter((v) => !kept.volumes.has(v.name)),
    networks: inventory.networks.filter((n) => !kept.networks.has(n.id)),
    images: inventory.images.filter((i) => !kept.images.has(i.id)),
  };
}

/** A sentence for what is left: "2 containers, 1 volume". */
export function describeLeftovers(left: ReturnType<typeof leftovers>): string {
  const parts = (
    [
      [left.containers.length, 'container'],
      [left.volumes.length, 'volume'],
      [left.networks.length, 'network'],
      [left.images.length, 'image'],
    ] as const
  )
    .filter(([n]) => n > 0)
    .map(([n, what]) => `${n} ${what}${n === 1 ? '' : 's'}`);
  return parts.length ? parts.join(', ') : 'nothing';
}

export interface DriftObject {
  kind: 'container' | 'volume';
  id: string;
  name?: string;
  orgId?: string;
}

export interface Violation {
  kind: ViolationKind;
  orgIds: string[];
  objects: DriftObject[];
}

const MAX_OBJECTS = 50;
const ORG_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The drift detector's comparison (observe, compare, report): what the engine holds beside what
 * placement decided. An object labelled with an organization other than the host's (a free
 * host has none), objects of two organizations, or containers without an organization label
 * that were not there at registration, are violations. A host being wiped is skipped: its
 * leftovers are expected until the wipe ends.
 */
export function findViolations(host: HostState, inventory: EngineInventory): Violation[] {
  if (host.status === 'wiping' || host.status === 'removed') return [];
  const left = leftovers(inventory, host.baseline);
  const labelled: DriftObject[] = [];
  const unlabeled: DriftObject[] = [];
  for (const c of left.containers) {
    const orgId = c.labels[RUNTIME_OBJECT_LABELS.org];
    if (orgId === undefined) unlabeled.push({ kind: 'container', id: c.id, name: c.name });
    else labelled.push({ kind: 'container', id: c.id, name: c.name, orgId });
  }
  for (const v of left.volumes) {
    const orgId = v.labels[RUNTIME_OBJECT_LABELS.org];
    if (orgId !== undefined) labelled.push({ kind: 'volume', id: v.name, name: v.name, orgId });
  }
  const violations: Violation[] = [];
  const sanitize = (orgId: string | undefined) => (orgId && ORG_ID.test(orgId) ? orgId : undefined);
  const objects = (list: DriftObject[]) =>
    list.slice(0, MAX_OBJECTS).map((o) => ({ ...o, orgId: sanitize(o.orgId) }));
  const orgsOf = (list: DriftObject[]) =>
    [...new Set(list.map((o) => sanitize(o.orgId) ?? 'invalid'))].sort().slice(0, MAX_OBJECTS);

  const foreign = labelled.filter((o) => o.orgId !== host.orgId);
  if (foreign.length)
    violations.push({ kind: 'foreign_organization', orgIds: orgsOf(foreign), objects: objects(foreign) });
  if (new Set(labelled.map((o) => o.orgId)).size >= 2)
    violations.push({ kind: 'two_organizations', orgIds: orgsOf(labelled), objects: objects(labelled) });
  if (unlabeled.length) violations.push({ kind: 'unlabeled', orgIds: [], objects: objects(unlabeled) });
  return violations;
}
