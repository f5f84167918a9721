import { deciderSpec } from '@palisade/testing';
import fc from 'fast-check';
import { SessionCommand, sessionDecider, SessionEvent } from '../src/domain/session.decider';

const now = Date.parse('2026-11-25T05:00:00Z');
const started: SessionEvent = {
  type: 'session.started',
  data: {
    sessionId: 's1',
    userId: 'u1',
    method: 'oidc',
    expiresAt: new Date(now + 7 * 86_400_000).toISOString(),
  },
};
const refreshed = (generation: number): SessionEvent => ({
  type: 'session.refreshed',
  data: {
    sessionId: 's1',
    userId: 'u1',
    generation,
    expiresAt: new Date(now + 7 * 86_400_000).toISOString(),
  },
});

const session = deciderSpec(sessionDecider);
/** Given these events, when this command: the events decided (or the error code). */
const when = (given: SessionEvent[], command: SessionCommand) => session.given(given).when(command).decided;

describe('session decider (refresh-token family)', () => {
  it('starts a session once', () => {
    expect(when([], { type: 'start', sessionId: 's1', userId: 'u1', method: 'oidc', now })).toEqual([
      started,
    ]);
    expect(when([started], { type: 'start', sessionId: 's1', userId: 'u1', method: 'oidc', now })).toBe(
      'session_exists',
    );
  });

  it('rotates: only the newest generation can be spent, and it yields the next one', () => {
    expect(when([started], { type: 'refresh', presentedGeneration: 0, now })).toEqual([refreshed(1)]);
    expect(when([started, refreshed(1)], { type: 'refresh', presentedGeneration: 1, now })).toEqual([
      refreshed(2),
    ]);
  });

  it('revokes the whole family when a spent refresh token comes back', () => {
    expect(
      when([started, refreshed(1), refreshed(2)], { type: 'refresh', presentedGeneration: 0, now }),
    ).toEqual([
      {
        type: 'refresh_token.reuse_detected',
        data: { sessionId: 's1', userId: 'u1', presentedGeneration: 0, currentGeneration: 2 },
      },
      { type: 'session.revoked', data: { sessionId: 's1', userId: 'u1', reason: 'refresh_token_reuse' } },
    ]);
  });

  it('refuses refresh on a revoked, unknown or expired session, and a generation from the future', () => {
    const revoked: SessionEvent = {
      type: 'session.revoked',
      data: { sessionId: 's1', userId: 'u1', reason: 'logout' },
    };
    expect(when([started, revoked], { type: 'refresh', presentedGeneration: 0, now })).toBe(
      'refresh_token_invalid',
    );
    expect(when([], { type: 'refresh', presentedGeneration: 0, now })).toBe('refresh_token_invalid');
    expect(when([started], { type: 'refresh', presentedGeneration: 0, now: now + 8 * 86_400_000 })).toBe(
      'refresh_token_invalid',
    );
    expect(when([started], { type: 'refresh', presentedGeneration: 3, now })).toBe('refresh_token_invalid');
  });

  it('revokes once (logout twice is not an error), and not what does not exist', () => {
    const revoke: SessionCommand = { type: 'revoke', reason: 'logout' };
    const revoked = when([started], revoke);
    expect(revoked).toEqual([
      { type: 'session.revoked', data: { sessionId: 's1', userId: 'u1', reason: 'logout' } },
    ]);
    expect(when([started, ...(revoked as SessionEvent[])], revoke)).toEqual([]);
    expect(when([], revoke)).toBe('session_not_found');
  });
});

describe('session decider properties (invariant 8: rotating refresh tokens with reuse detection)', () => {
  it('for any sequence of presented generations: each generation is spent at most once, and the first stale one ends the family for good', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 6 }), { maxLength: 30 }), (presented) => {
        let history: SessionEvent[] = [started];
        const spent = new Set<number>();
        let revoked = false;
        for (const generation of presented) {
          const outcome = when(history, { type: 'refresh', presentedGeneration: generation, now });
          if (typeof outcome === 'string') {
            expect(outcome).toBe('refresh_token_invalid');
            continue;
          }
          expect(revoked).toBe(false);
          if (outcome[0].type === 'session.refreshed') {
            expect(spent.has(generation)).toBe(false);
            spent.add(generation);
          } else {
            expect(outcome.map((e) => e.type)).toEqual(['refresh_token.reuse_detected', 'session.revoked']);
            expect(spent.has(generation)).toBe(true);
            revoked = true;
          }
          history = [...history, ...outcome];
        }
        // Once revoked, nothing refreshes the session again.
        if (revoked)
          expect(when(history, { type: 'refresh', presentedGeneration: spent.size, now })).toBe(
            'refresh_token_invalid',
          );
      }),
    );
  });
});
