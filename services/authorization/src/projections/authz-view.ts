import { AUTHORIZATION_EVENTS } from '@palisade/contracts';
import type { AuthorizationEvent, AuthzCheck, AuthzDecision, EffectivePolicyPack } from '@palisade/contracts';
import { authzDecisions } from '../authz.metrics';
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
  /** Approved elevations that have not ended, by organization and id: all the sweep looks at. */
  private readonly approved = new Map<string, { orgId: string; elevationId: string; expiresAt: number }>();
  /** The last event sequence applied. */
  sequence = 0;
  private readonly decisions = authzDecisions();
  /** Decisions are interned (one frozen object per outcome and reason): one counter child each, off the hot path. */
  private readonly counted = new WeakMap<AuthzDecision, { inc(): void }>();

  /** Applies the event with this producer sequence (each exactly once, in order). */
  apply(sequence: number, type: string, data: unknown): void {
    if (sequence !== this.sequence + 1)
      throw new Error(`authorization view expected sequence ${this.sequence + 1}, got ${sequence}`);
    const name = NAME_BY_TYPE.get(type);
    if (!name) throw new Error(`authorization view cannot apply ${type}`);
    const event = { type: name, data } as AuthorizationEvent;
    const orgId = event.data.orgId;
    this.orgs.set(orgId, applyOrgEvent(this.orgs.get(orgId), event));
    if (name.startsWith('elevation.'))
      this.indexElevation(orgId, (data as { elevationId: string }).elevationId);
    this.sequence = sequence;
  }

  private indexElevation(orgId: string, elevationId: string): void {
    const key = `${orgId}\n${elevationId}`;
    const elevation = this.orgs.get(orgId)?.elevations.get(elevationId);
    if (elevation?.status === 'approved')
      this.approved.set(key, { orgId, elevationId, expiresAt: elevation.expiresAt! });
    else this.approved.delete(key);
  }

  /** `now`: ms since the epoch (elevations are time-bound). */
  check(request: AuthzCheck, now: number): AuthzDecision {
    const decision = check(this.orgs.get(request.resource.orgId), request, now);
    let child = this.counted.get(decision);
    if (!child) {
      child = this.decisions.labels({
        decision: decision.allowed ? 'allow' : 'deny',
        reason: decision.reason,
      });
      this.counted.set(decision, child);
    }
    child.inc();
    return decision;
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
    for (const { orgId, elevationId, expiresAt } of this.approved.values())
      if (expiresAt <= now) yield { orgId, elevationId };
  }

  get size(): number {
    return this.orgs.size;
  }
}
