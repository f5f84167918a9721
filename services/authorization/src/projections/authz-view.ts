import { AUTHORIZATION_EVENTS } from '@palisade/contracts';
import type { AuthorizationEvent, AuthzCheck, AuthzDecision, EffectivePolicyPack } from '@palisade/contracts';
import { check } from '../domain/check';
import { applyOrgEvent, OrgState } from '../domain/org.state';
import { effectivePolicyPack } from '../domain/policy-packs';

const NAME_BY_TYPE = new Map<string, AuthorizationEvent['type']>(
  AUTHORIZATION_EVENTS.map((d) => [d.type, d.name as AuthorizationEvent['type']]),
);

/**
 * Every organization authorization knows, folded from its events in producer-sequence order.
 * Checks are answered from here, in process: no I/O on the decision path.
 */
export class AuthzView {
  private readonly orgs = new Map<string, OrgState>();
  /** The last event sequence applied. */
  sequence = 0;

  /** Applies the event with this producer sequence (each exactly once, in order). */
  apply(sequence: number, type: string, data: unknown): void {
    if (sequence !== this.sequence + 1)
      throw new Error(`authorization view expected sequence ${this.sequence + 1}, got ${sequence}`);
    const name = NAME_BY_TYPE.get(type);
    if (!name) throw new Error(`authorization view cannot apply ${type}`);
    const event = { type: name, data } as AuthorizationEvent;
    const orgId = event.data.orgId;
    this.orgs.set(orgId, applyOrgEvent(this.orgs.get(orgId), event));
    this.sequence = sequence;
  }

  check(request: AuthzCheck, now = Date.now()): AuthzDecision {
    return check(this.orgs.get(request.resource.orgId), request, now);
  }

  org(orgId: string): OrgState | undefined {
    return this.orgs.get(orgId);
  }

  policyPack(orgId: string): EffectivePolicyPack | undefined {
    const org = this.orgs.get(orgId);
    return org && effectivePolicyPack(org);
  }

  /** Approved elevations whose window has passed (the sweep closes them out). */
  *expiredElevations(now: number): Generator<{ orgId: string; elevationId: string }> {
    for (const org of this.orgs.values())
      for (const elevation of org.elevations.values())
        if (elevation.status === 'approved' && elevation.expiresAt! <= now)
          yield { orgId: org.orgId, elevationId: elevation.id };
  }

  get size(): number {
    return this.orgs.size;
  }
}
