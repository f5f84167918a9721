import fc from 'fast-check';
import { AUTHORIZATION_EVENTS, AUTHZ_ACTIONS, ORG_ROLES, WORKSPACE_GRANTS } from '@palisade/contracts';
import type { AuthorizationEvent, AuthzAction, AuthzCheck } from '@palisade/contracts';
import { check, holdsWorkspaceAccess } from '../src/domain/check';
import { applyOrgEvent, OrgState, ownerCount } from '../src/domain/org.state';
import { RuleError } from '@palisade/domain';
import { OrgCommand, organizationDecider } from '../src/domain/organization.decider';
import { POLICY_TABLE } from '../src/domain/policy-table';
import { AuthzView } from '../src/projections/authz-view';

const USERS = ['u0', 'u1', 'u2', 'u3', 'u4', 'u5'];
const WORKSPACES = ['ws-a', 'ws-b'];
const ELEVATIONS = [
  '01937a00-0000-7000-8000-000000000001',
  '01937a00-0000-7000-8000-000000000002',
  '01937a00-0000-7000-8000-000000000003',
];
const INVITATIONS = ['01937a00-0000-7000-8000-0000000000a1', '01937a00-0000-7000-8000-0000000000a2'];
const T0 = Date.parse('2026-11-25T10:00:00Z');

const userArb = fc.constantFrom(...USERS);
/** Who acts: mostly a current member (see `run`), so that histories get somewhere. */
const byArb = fc.integer({ min: 0, max: 99 });
const wsArb = fc.constantFrom(...WORKSPACES);
const elevationArb = fc.constantFrom(...ELEVATIONS);

/** A command without its clock; `now` is filled in by the run. */
type Step = { command: GeneratedCommand; advanceMs: number };
type GeneratedCommand = { type: OrgCommand['type']; by?: number | string } & Record<string, unknown>;

const commandArb: fc.Arbitrary<GeneratedCommand> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      type: fc.constant('addMember'),
      userId: userArb,
      role: fc.constantFrom(...ORG_ROLES),
      by: byArb,
    }),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('removeMember'), userId: userArb, by: byArb }) },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('changeRole'),
      userId: userArb,
      role: fc.constantFrom(...ORG_ROLES),
      by: byArb,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('addGrant'),
      userId: userArb,
      workspaceId: wsArb,
      grant: fc.constantFrom(...WORKSPACE_GRANTS),
      by: byArb,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('removeGrant'),
      userId: userArb,
      workspaceId: wsArb,
      by: byArb,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('setRootPolicy'),
      mode: fc.constantFrom('break_glass', 'workspace_elevation', 'break_glass', 'disabled'),
      by: byArb,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      type: fc.constant('requestElevation'),
      elevationId: elevationArb,
      workspaceId: wsArb,
      reason: fc.constant('needs root to debug'),
      windowMinutes: fc.integer({ min: 5, max: 60 }),
      by: byArb,
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ type: fc.constant('approveElevation'), elevationId: elevationArb, by: byArb }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ type: fc.constant('denyElevation'), elevationId: elevationArb, by: byArb }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ type: fc.constant('endElevation'), elevationId: elevationArb, by: byArb }),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('expireElevation'), elevationId: elevationArb }) },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('invite'),
      invitationId: fc.constantFrom(...INVITATIONS),
      role: fc.constantFrom(...ORG_ROLES),
      expiresInMinutes: fc.integer({ min: 5, max: 120 }),
      by: byArb,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('acceptInvitation'),
      invitationId: fc.constantFrom(...INVITATIONS),
      by: userArb,
    }),
  },
) as fc.Arbitrary<GeneratedCommand>;

const stepsArb = fc.array(
  fc.record({
    command: commandArb,
    advanceMs: fc.integer({ min: 0, max: 20 * 60_000 }),
  }) as fc.Arbitrary<Step>,
  { minLength: 10, maxLength: 80, size: 'max' },
);

interface Run {
  org: OrgState;
  now: number;
  /** The events each accepted command produced, with the state before it. */
  history: Array<{ before: OrgState; after: OrgState; events: AuthorizationEvent[]; now: number }>;
}

/** Runs commands through the decider as the service would: rejected ones change nothing. */
function run(steps: Step[]): Run {
  let org = organizationDecider.evolve(null, {
    type: 'org.created',
    data: { orgId: 'acme', name: 'Acme', owner: 'u0' },
  }) as OrgState;
  let now = T0;
  const history: Run['history'] = [];
  for (const step of steps) {
    now += step.advanceMs;
    const members = [...org.members.keys()];
    const pick = (step.command as { by?: number }).by;
    const by =
      pick === undefined
        ? undefined
        : pick < 85
          ? members[pick % members.length]
          : USERS[pick % USERS.length];
    const command = { ...step.command, ...(by === undefined ? {} : { by }), now } as OrgCommand;
    let events: AuthorizationEvent[];
    try {
      events = organizationDecider.decide(org, command);
    } catch (error) {
      if (error instanceof RuleError) continue;
      throw error;
    }
    const before = org;
    org = events.reduce((s: OrgState, e) => organizationDecider.evolve(s, e) as OrgState, org);
    history.push({ before, after: org, events, now });
  }
  return { org, now, history };
}

const anyCheck = (userId: string, action: string, workspaceId?: string, orgId = 'acme'): AuthzCheck => ({
  subject: { kind: 'user', userId },
  action,
  resource: { orgId, ...(workspaceId ? { workspaceId } : {}) },
});

function everyAction(org: OrgState | undefined, userId: string, now: number, orgId = 'acme') {
  return AUTHZ_ACTIONS.flatMap((action) =>
    [undefined, ...WORKSPACES].map((ws) => check(org, anyCheck(userId, action, ws, orgId), now)),
  );
}

describe('policy properties (fast-check)', () => {
  it('a subject never holds a permission in an organization it is not a member of', () => {
    fc.assert(
      fc.property(stepsArb, userArb, (steps, userId) => {
        const { org, now } = run(steps);
        if (org.members.has(userId)) return;
        expect(everyAction(org, userId, now).every((d) => !d.allowed)).toBe(true);
        // Nor in another organization, whatever it holds here.
        expect(everyAction(undefined, userId, now, 'other-org').every((d) => !d.allowed)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('removing a member revokes all of its permissions at once', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        const { history } = run(steps);
        for (const { after, events, now } of history) {
          const removed = events.find((e) => e.type === 'member.removed');
          if (!removed || removed.type !== 'member.removed') continue;
          expect(everyAction(after, removed.data.userId, now).filter((d) => d.allowed)).toEqual([]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('nobody approves or denies their own elevation', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        const { org } = run(steps);
        for (const elevation of org.elevations.values())
          if (elevation.approver !== undefined) expect(elevation.approver).not.toBe(elevation.requester);
      }),
      { numRuns: 300 },
    );
  });

  it('an expired elevation grants nothing, and no elevation outlives membership', () => {
    fc.assert(
      fc.property(stepsArb, fc.integer({ min: 0, max: 3 * 60 * 60_000 }), (steps, later) => {
        const { org, now } = run(steps);
        for (const user of USERS)
          for (const ws of WORKSPACES) {
            const decision = check(org, anyCheck(user, 'workspace.root_shell', ws), now + later);
            if (!decision.allowed) continue;
            const active = [...org.elevations.values()].filter(
              (e) =>
                e.status === 'approved' &&
                e.requester === user &&
                e.workspaceId === ws &&
                e.expiresAt! > now + later,
            );
            expect(active.length).toBeGreaterThan(0);
            expect(org.members.has(user)).toBe(true);
          }
      }),
      { numRuns: 300 },
    );
  });

  it('closes out an approved elevation as soon as its requester loses access to the workspace', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        const { org } = run(steps);
        for (const elevation of org.elevations.values())
          if (elevation.status === 'approved')
            expect(holdsWorkspaceAccess(org, elevation.requester, elevation.workspaceId)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('the last owner always remains', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        const { org, history } = run(steps);
        expect(ownerCount(org)).toBeGreaterThanOrEqual(1);
        for (const h of history) expect(ownerCount(h.before)).toBeGreaterThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });

  it('a reviewer is read-only whatever happened before', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        const { org, now } = run(steps);
        for (const [user, role] of org.members) {
          if (role !== 'reviewer') continue;
          for (const action of AUTHZ_ACTIONS)
            for (const ws of [undefined, ...WORKSPACES])
              if (POLICY_TABLE[action].write)
                expect(check(org, anyCheck(user, action, ws), now).allowed).toBe(false);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('the generated histories', () => {
  it('reach the states the properties are about (so they are not vacuous)', () => {
    const seen = new Set<string>();
    for (const steps of fc.sample(stepsArb, { numRuns: 300, seed: 7 }))
      for (const { events } of run(steps).history) for (const e of events) seen.add(e.type);
    for (const type of [
      'member.removed',
      'role.changed',
      'grant.added',
      'elevation.approved',
      'elevation.closed',
    ])
      expect(seen).toContain(type);
  });
});

describe('the policy table', () => {
  const org = (events: AuthorizationEvent[]) =>
    events.reduce<OrgState | undefined>((s, e) => applyOrgEvent(s, e), undefined)!;
  const acme = org([
    { type: 'org.created', data: { orgId: 'acme', name: 'Acme', owner: 'olga' } },
    { type: 'member.added', data: { orgId: 'acme', userId: 'ada', role: 'admin', addedBy: 'olga' } },
    { type: 'member.added', data: { orgId: 'acme', userId: 'mia', role: 'member', addedBy: 'olga' } },
    { type: 'member.added', data: { orgId: 'acme', userId: 'rex', role: 'reviewer', addedBy: 'olga' } },
    { type: 'member.added', data: { orgId: 'acme', userId: 'dan', role: 'member', addedBy: 'olga' } },
    {
      type: 'grant.added',
      data: { orgId: 'acme', userId: 'dan', workspaceId: 'ws-a', grant: 'developer', grantedBy: 'olga' },
    },
    {
      type: 'grant.added',
      data: { orgId: 'acme', userId: 'mia', workspaceId: 'ws-a', grant: 'maintainer', grantedBy: 'olga' },
    },
  ]);
  const allowed = (userId: string, action: AuthzAction | string, workspaceId?: string) =>
    check(acme, anyCheck(userId, action, workspaceId), T0);

  it.each([
    // action, who, workspace, allowed, reason
    ['workspace.create', 'mia', undefined, true, 'role:member'],
    ['workspace.create', 'rex', undefined, false, 'insufficient_role'],
    ['workspace.open_shell', 'dan', 'ws-a', true, 'grant:developer'],
    ['workspace.open_shell', 'dan', 'ws-b', false, 'insufficient_role'],
    ['workspace.open_shell', 'dan', undefined, false, 'workspace_required'],
    ['workspace.open_shell', 'ada', 'ws-b', true, 'role:admin'],
    ['devlink.issue', 'dan', 'ws-a', true, 'grant:developer'],
    ['devlink.revoke', 'dan', 'ws-a', false, 'insufficient_role'],
    ['devlink.revoke', 'mia', 'ws-a', true, 'grant:maintainer'],
    ['secret.write', 'dan', 'ws-a', false, 'insufficient_role'],
    ['secret.write', 'mia', 'ws-a', true, 'grant:maintainer'],
    ['secret.read_metadata', 'dan', 'ws-a', true, 'grant:developer'],
    ['secret.read_metadata', 'rex', 'ws-a', false, 'insufficient_role'],
    ['root.request', 'dan', 'ws-a', false, 'root_policy_disabled'],
    ['root.approve', 'ada', undefined, false, 'root_policy_disabled'],
    ['policy.change', 'mia', undefined, false, 'insufficient_role'],
    ['policy.change', 'olga', undefined, true, 'role:owner'],
    ['audit.read', 'rex', undefined, true, 'role:reviewer'],
    ['audit.read', 'mia', undefined, false, 'insufficient_role'],
    ['usage.read', 'rex', undefined, true, 'role:reviewer'],
    ['host.manage', 'ada', undefined, true, 'role:admin'],
    ['host.manage', 'mia', undefined, false, 'insufficient_role'],
    ['workspace.root_shell', 'olga', 'ws-a', false, 'no_active_elevation'],
    ['workspace.delete_everything', 'olga', undefined, false, 'unknown_action'],
    ['__proto__', 'olga', undefined, false, 'unknown_action'],
    ['toString', 'olga', undefined, false, 'unknown_action'],
    ['org.read', 'stranger', undefined, false, 'not_a_member'],
  ])('%s by %s on %s: allowed=%s (%s)', (action, who, ws, ok, reason) => {
    expect(allowed(who as string, action as string, ws as string | undefined)).toEqual({
      allowed: ok,
      reason,
    });
  });

  it('limits API tokens to their organization, and read tokens to reading', () => {
    const token = (access: 'read' | 'write', orgId = 'acme') => ({
      kind: 'api_token' as const,
      userId: 'olga',
      orgId,
      access,
    });
    const resource = { orgId: 'acme' };
    expect(check(acme, { subject: token('read'), action: 'audit.read', resource }, T0)).toEqual({
      allowed: true,
      reason: 'role:owner',
    });
    expect(check(acme, { subject: token('read'), action: 'policy.change', resource }, T0).reason).toBe(
      'token_read_only',
    );
    expect(check(acme, { subject: token('write', 'other'), action: 'audit.read', resource }, T0).reason).toBe(
      'token_other_organization',
    );
  });

  it('gives a dev session nothing at all', () => {
    for (const action of AUTHZ_ACTIONS)
      expect(
        check(
          acme,
          {
            subject: { kind: 'dev_session', linkId: 'l' },
            action,
            resource: { orgId: 'acme', workspaceId: 'ws-a' },
          },
          T0,
        ),
      ).toEqual({ allowed: false, reason: 'dev_session_has_no_rights' });
  });
});

describe('the view keeps approved elevations apart for the sweep', () => {
  const typeOf = new Map(AUTHORIZATION_EVENTS.map((d) => [d.name, d.type]));

  it('finds exactly the approved elevations past their window that a scan of the organization finds', () => {
    let found = 0;
    fc.assert(
      fc.property(stepsArb, fc.integer({ min: 0, max: 120 * 60_000 }), (steps, laterMs) => {
        const { org, now, history } = run(steps);
        const view = new AuthzView();
        const created: AuthorizationEvent = {
          type: 'org.created',
          data: { orgId: 'acme', name: 'Acme', owner: 'u0' },
        };
        for (const event of [created, ...history.flatMap((h) => h.events)])
          view.apply(view.sequence + 1, typeOf.get(event.type)!, event.data);
        for (const at of [now, now + laterMs]) {
          const scanned = [...org.elevations.values()]
            .filter((e) => e.status === 'approved' && e.expiresAt! <= at)
            .map((e) => e.id)
            .sort();
          const indexed = [...view.expiredElevations(at)].map((e) => e.elevationId).sort();
          expect(indexed).toEqual(scanned);
          if (indexed.length) found++;
        }
      }),
      { numRuns: 300 },
    );
    // The histories do reach approved elevations past their window.
    expect(found).toBeGreaterThan(5);
  });
});
