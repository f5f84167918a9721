import type { AuthorizationEvent, AuthzCheck } from '@palisade/contracts';
import { fold } from '@palisade/domain';
import { deciderSpec } from '@palisade/testing';
import { check } from '../src/domain/check';
import { OrgCommand, organizationDecider } from '../src/domain/organization.decider';

const T0 = Date.parse('2026-11-25T10:00:00Z');
const ORG = 'acme';
const created: AuthorizationEvent = {
  type: 'org.created',
  data: { orgId: ORG, name: 'Acme', owner: 'olga' },
};
const added = (userId: string, role: 'owner' | 'admin' | 'member' | 'reviewer'): AuthorizationEvent => ({
  type: 'member.added',
  data: { orgId: ORG, userId, role, addedBy: 'olga' },
});
const granted = (
  userId: string,
  workspaceId: string,
  grant: 'maintainer' | 'developer',
): AuthorizationEvent => ({
  type: 'grant.added',
  data: { orgId: ORG, userId, workspaceId, grant, grantedBy: 'olga' },
});
const rootPolicy = (to: 'disabled' | 'break_glass' | 'workspace_elevation'): AuthorizationEvent => ({
  type: 'root_policy.changed',
  data: { orgId: ORG, from: 'disabled', to, changedBy: 'olga' },
});
const E1 = '01937a00-0000-7000-8000-000000000001';
const requested: AuthorizationEvent = {
  type: 'elevation.requested',
  data: {
    orgId: ORG,
    elevationId: E1,
    requester: 'dev',
    workspaceId: 'ws-1',
    mode: 'break_glass',
    reason: 'the database is wedged',
    windowMinutes: 30,
  },
};

const approved: AuthorizationEvent = {
  type: 'elevation.approved',
  data: {
    orgId: ORG,
    elevationId: E1,
    approver: 'ada',
    startsAt: '2026-11-25T10:00:00.000Z',
    expiresAt: '2026-11-25T10:30:00.000Z',
  },
};

const organization = deciderSpec(organizationDecider);
/** Given these events, when this command: the events it decides (or the code of the rule error it throws). */
const when = (given: AuthorizationEvent[], command: OrgCommand) =>
  organization.given(given).when(command).decided;

function decide(given: AuthorizationEvent[], request: AuthzCheck, now = T0) {
  return check(fold(organizationDecider, given) ?? undefined, request, now);
}

const user = (userId: string) => ({ kind: 'user' as const, userId });

describe('organization decider', () => {
  it('creates an organization once, with its creator as owner', () => {
    expect(when([], { type: 'createOrg', orgId: ORG, name: 'Acme', by: 'olga' })).toEqual([created]);
    expect(when([created], { type: 'createOrg', orgId: ORG, name: 'Acme', by: 'olga' })).toBe('org_exists');
    expect(when([], { type: 'removeMember', userId: 'x', by: 'olga', now: T0 })).toBe('org_not_found');
  });

  it('never removes or demotes the last owner', () => {
    expect(when([created], { type: 'removeMember', userId: 'olga', by: 'olga', now: T0 })).toBe('last_owner');
    expect(when([created], { type: 'changeRole', userId: 'olga', role: 'admin', by: 'olga', now: T0 })).toBe(
      'last_owner',
    );
    // With a second owner, one may leave.
    expect(
      when([created, added('otto', 'owner')], { type: 'removeMember', userId: 'olga', by: 'olga', now: T0 }),
    ).toEqual([{ type: 'member.removed', data: { orgId: ORG, userId: 'olga', removedBy: 'olga' } }]);
  });

  it('lets only an owner make, unmake or remove an owner', () => {
    const given = [created, added('ada', 'admin'), added('otto', 'owner')];
    expect(when(given, { type: 'changeRole', userId: 'ada', role: 'owner', by: 'ada', now: T0 })).toBe(
      'owner_required',
    );
    expect(when(given, { type: 'removeMember', userId: 'otto', by: 'ada', now: T0 })).toBe('owner_required');
    expect(when(given, { type: 'addMember', userId: 'x', role: 'owner', by: 'ada', now: T0 })).toBe(
      'owner_required',
    );
    expect(when(given, { type: 'addMember', userId: 'x', role: 'member', by: 'ada', now: T0 })).toEqual([
      { type: 'member.added', data: { orgId: ORG, userId: 'x', role: 'member', addedBy: 'ada' } },
    ]);
  });

  it('refuses member management to members and reviewers', () => {
    const given = [created, added('mia', 'member'), added('rex', 'reviewer')];
    for (const by of ['mia', 'rex', 'stranger'])
      expect(when(given, { type: 'addMember', userId: 'x', role: 'member', by, now: T0 })).toMatch(
        /insufficient_role|not_a_member/,
      );
  });

  it('accepts an invitation once, before it expires', () => {
    const invitationId = '01937a00-0000-7000-8000-0000000000aa';
    const invited = when([created], {
      type: 'invite',
      invitationId,
      role: 'member',
      expiresInMinutes: 60,
      by: 'olga',
      now: T0,
    });
    expect(invited).toEqual([
      {
        type: 'member.invited',
        data: {
          orgId: ORG,
          invitationId,
          role: 'member',
          invitedBy: 'olga',
          expiresAt: '2026-11-25T11:00:00.000Z',
        },
      },
    ]);
    const given = [created, ...(invited as AuthorizationEvent[])];
    const accepted = when(given, { type: 'acceptInvitation', invitationId, by: 'nina', now: T0 + 1000 });
    expect(accepted).toEqual([
      {
        type: 'member.added',
        data: { orgId: ORG, userId: 'nina', role: 'member', addedBy: 'nina', invitationId },
      },
    ]);
    const after = [...given, ...(accepted as AuthorizationEvent[])];
    expect(when(after, { type: 'acceptInvitation', invitationId, by: 'nick', now: T0 + 2000 })).toBe(
      'invitation_used',
    );
    expect(when(given, { type: 'acceptInvitation', invitationId, by: 'nina', now: T0 + 3_600_000 })).toBe(
      'invitation_expired',
    );
  });

  it('ends the grants of a member who becomes reviewer, and gives reviewers none', () => {
    const given = [created, added('dev', 'member'), granted('dev', 'ws-1', 'developer')];
    expect(when(given, { type: 'changeRole', userId: 'dev', role: 'reviewer', by: 'olga', now: T0 })).toEqual(
      [
        {
          type: 'role.changed',
          data: { orgId: ORG, userId: 'dev', from: 'member', to: 'reviewer', changedBy: 'olga' },
        },
        {
          type: 'grant.removed',
          data: { orgId: ORG, workspaceId: 'ws-1', userId: 'dev', removedBy: 'olga' },
        },
      ],
    );
    expect(
      when([created, added('rex', 'reviewer')], {
        type: 'addGrant',
        userId: 'rex',
        workspaceId: 'ws-1',
        grant: 'developer',
        by: 'olga',
        now: T0,
      }),
    ).toBe('reviewer_read_only');
  });

  describe('root policy and elevation', () => {
    const base = [
      created,
      added('ada', 'admin'),
      added('dev', 'member'),
      granted('dev', 'ws-1', 'developer'),
    ];
    const request: OrgCommand = {
      type: 'requestElevation',
      elevationId: E1,
      workspaceId: 'ws-1',
      reason: 'the database is wedged',
      windowMinutes: 30,
      by: 'dev',
      now: T0,
    };

    it('starts closed: no elevation can be requested while the root policy is disabled', () => {
      expect(when(base, request)).toBe('root_policy_disabled');
    });

    it('records requester, workspace, reason, mode and window', () => {
      expect(when([...base, rootPolicy('break_glass')], request)).toEqual([requested]);
    });

    it('lets an admin other than the requester approve, with an expiry; never the requester', () => {
      const given = [...base, added('dev2', 'admin'), rootPolicy('break_glass')];
      const own = { ...requested, data: { ...requested.data, requester: 'ada' } } as AuthorizationEvent;
      expect(when([...given, own], { type: 'approveElevation', elevationId: E1, by: 'ada', now: T0 })).toBe(
        'own_request',
      );
      expect(when([...given, own], { type: 'denyElevation', elevationId: E1, by: 'ada', now: T0 })).toBe(
        'own_request',
      );
      expect(
        when([...given, requested], { type: 'approveElevation', elevationId: E1, by: 'ada', now: T0 }),
      ).toEqual([approved]);
      expect(
        when([...given, requested], { type: 'approveElevation', elevationId: E1, by: 'dev', now: T0 }),
      ).toBe('own_request');
    });

    it('never lets root outlive the access it builds on (found by the reviewer property)', () => {
      const pending = [...base, rootPolicy('break_glass'), requested];
      const demoted: AuthorizationEvent = {
        type: 'role.changed',
        data: { orgId: ORG, userId: 'dev', from: 'member', to: 'reviewer', changedBy: 'olga' },
      };
      const ungranted: AuthorizationEvent = {
        type: 'grant.removed',
        data: { orgId: ORG, workspaceId: 'ws-1', userId: 'dev', removedBy: 'olga' },
      };
      expect(
        when([...pending, demoted, ungranted], {
          type: 'approveElevation',
          elevationId: E1,
          by: 'ada',
          now: T0,
        }),
      ).toBe('requester_without_access');
      const approval = when(pending, { type: 'approveElevation', elevationId: E1, by: 'ada', now: T0 });
      const active = [...pending, ...(approval as AuthorizationEvent[])];
      const demotion = when(active, {
        type: 'changeRole',
        userId: 'dev',
        role: 'reviewer',
        by: 'olga',
        now: T0 + 60_000,
      });
      expect((demotion as AuthorizationEvent[]).map((e) => e.type)).toEqual([
        'elevation.closed',
        'role.changed',
        'grant.removed',
      ]);
      expect((demotion as AuthorizationEvent[])[0]).toMatchObject({
        data: { outcome: 'access_removed', endedAt: '2026-11-25T10:01:00.000Z' },
      });
    });

    it('grants root on that workspace only, until the expiry, then closes out', () => {
      const given = [...base, rootPolicy('break_glass'), requested, approved];
      const root = (workspaceId: string, now: number) =>
        decide(
          given,
          { subject: user('dev'), action: 'workspace.root_shell', resource: { orgId: ORG, workspaceId } },
          now,
        );
      expect(root('ws-1', T0 + 60_000)).toEqual({ allowed: true, reason: 'elevation' });
      expect(root('ws-2', T0 + 60_000)).toEqual({ allowed: false, reason: 'insufficient_role' });
      expect(root('ws-1', T0 + 30 * 60_000)).toEqual({ allowed: false, reason: 'no_active_elevation' });
      expect(when(given, { type: 'expireElevation', elevationId: E1, now: T0 + 60_000 })).toBe(
        'elevation_not_expired',
      );
      expect(when(given, { type: 'expireElevation', elevationId: E1, now: T0 + 31 * 60_000 })).toEqual([
        {
          type: 'elevation.expired',
          data: { orgId: ORG, elevationId: E1, expiredAt: '2026-11-25T10:30:00.000Z' },
        },
        {
          type: 'elevation.closed',
          data: {
            orgId: ORG,
            elevationId: E1,
            requester: 'dev',
            approver: 'ada',
            workspaceId: 'ws-1',
            startedAt: '2026-11-25T10:00:00.000Z',
            endedAt: '2026-11-25T10:30:00.000Z',
            outcome: 'expired',
            closedBy: 'system',
          },
        },
      ]);
      // A dev session never carries elevation.
      expect(
        decide(
          given,
          {
            subject: { kind: 'dev_session', linkId: 'l1' },
            action: 'workspace.root_shell',
            resource: { orgId: ORG, workspaceId: 'ws-1' },
          },
          T0 + 60_000,
        ),
      ).toEqual({ allowed: false, reason: 'dev_session_has_no_rights' });
      // Removing the member closes its elevation out and ends root at once.
      const removal = when(given, { type: 'removeMember', userId: 'dev', by: 'ada', now: T0 + 120_000 });
      expect((removal as AuthorizationEvent[]).map((e) => e.type)).toEqual([
        'elevation.closed',
        'member.removed',
      ]);
      expect(
        decide(
          [...given, ...(removal as AuthorizationEvent[])],
          {
            subject: user('dev'),
            action: 'workspace.root_shell',
            resource: { orgId: ORG, workspaceId: 'ws-1' },
          },
          T0 + 121_000,
        ),
      ).toEqual({ allowed: false, reason: 'not_a_member' });
    });
  });
});
