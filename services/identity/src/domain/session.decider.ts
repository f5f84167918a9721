import { REFRESH_TOKEN_TTL_SECONDS, SESSION_REVOKE_REASONS } from '@palisade/contracts';
import type { IdentityEvent, LOGIN_METHODS } from '@palisade/contracts';
import type { Decider } from '@palisade/domain';
import { RuleError } from '@palisade/domain';

/**
 * A session and its refresh-token family, as a decider (pure: no I/O, time comes in the command).
 * Generation n is the refresh token issued by the n-th refresh (0 at sign-in); only the newest
 * may be spent. Presenting an older one means it was copied: the whole family is revoked.
 */

export type LoginMethod = (typeof LOGIN_METHODS)[number];
export type RevokeReason = (typeof SESSION_REVOKE_REASONS)[number];

/** The events of a session's stream (their shapes are identity's contract). */
export type SessionEvent = Extract<
  IdentityEvent,
  { type: 'session.started' | 'session.refreshed' | 'refresh_token.reuse_detected' | 'session.revoked' }
>;

export type SessionCommand =
  | { type: 'start'; sessionId: string; userId: string; method: LoginMethod; now: number }
  | { type: 'refresh'; presentedGeneration: number; now: number }
  | { type: 'revoke'; reason: Exclude<RevokeReason, 'refresh_token_reuse'> };

export interface SessionState {
  status: 'none' | 'active' | 'revoked';
  sessionId?: string;
  userId?: string;
  generation: number;
  /** When the newest refresh token expires (ms since the epoch). */
  expiresAt: number;
}

const refreshTokenInvalid = () =>
  new RuleError(
    401,
    'refresh_token_invalid',
    'The refresh token is unknown, spent, expired or revoked; sign in again.',
  );

function refreshExpiry(now: number): string {
  return new Date(now + REFRESH_TOKEN_TTL_SECONDS * 1000).toISOString();
}

export const sessionDecider: Decider<SessionState, SessionCommand, SessionEvent> = {
  initialState: { status: 'none', generation: 0, expiresAt: 0 },

  decide(state, command) {
    switch (command.type) {
      case 'start':
        if (state.status !== 'none')
          throw new RuleError(409, 'session_exists', 'This session exists already.');
        return [
          {
            type: 'session.started',
            data: {
              sessionId: command.sessionId,
              userId: command.userId,
              method: command.method,
              expiresAt: refreshExpiry(command.now),
            },
          },
        ];
      case 'refresh': {
        if (state.status !== 'active') throw refreshTokenInvalid();
        const ids = { sessionId: state.sessionId!, userId: state.userId! };
        if (command.presentedGeneration < state.generation) {
          return [
            {
              type: 'refresh_token.reuse_detected',
              data: {
                ...ids,
                presentedGeneration: command.presentedGeneration,
                currentGeneration: state.generation,
              },
            },
            { type: 'session.revoked', data: { ...ids, reason: 'refresh_token_reuse' } },
          ];
        }
        if (command.presentedGeneration !== state.generation || command.now >= state.expiresAt)
          throw refreshTokenInvalid();
        return [
          {
            type: 'session.refreshed',
            data: { ...ids, generation: state.generation + 1, expiresAt: refreshExpiry(command.now) },
          },
        ];
      }
      case 'revoke':
        if (state.status === 'none')
          throw new RuleError(404, 'session_not_found', 'There is no such session.');
        if (state.status === 'revoked') return [];
        return [
          {
            type: 'session.revoked',
            data: { sessionId: state.sessionId!, userId: state.userId!, reason: command.reason },
          },
        ];
      default: {
        const never: never = command;
        return never;
      }
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'session.started':
        return {
          status: 'active',
          sessionId: event.data.sessionId,
          userId: event.data.userId,
          generation: 0,
          expiresAt: Date.parse(event.data.expiresAt),
        };
      case 'session.refreshed':
        return { ...state, generation: event.data.generation, expiresAt: Date.parse(event.data.expiresAt) };
      case 'refresh_token.reuse_detected':
        return state;
      case 'session.revoked':
        return { ...state, status: 'revoked' };
      default: {
        const never: never = event;
        return never;
      }
    }
  },
};
