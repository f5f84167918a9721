import type { IdentityEvent } from '@palisade/contracts';
import type { Decider } from '@palisade/domain';
import { RuleError } from '@palisade/domain';

/** An API token's life, as a decider: issued once, revoked once. */

/** The events of an API token's stream (their shapes are identity's contract). */
export type ApiTokenEvent = Extract<IdentityEvent, { type: 'api_token.issued' | 'api_token.revoked' }>;

export type ApiTokenCommand =
  | {
      type: 'issue';
      tokenId: string;
      userId: string;
      name: string;
      scope: 'read' | 'write';
      expiresAt: string;
    }
  | { type: 'revoke'; userId: string };

export interface ApiTokenState {
  status: 'none' | 'active' | 'revoked';
  tokenId?: string;
}

export const apiTokenDecider: Decider<ApiTokenState, ApiTokenCommand, ApiTokenEvent> = {
  initialState: { status: 'none' },
  decide(state, command) {
    switch (command.type) {
      case 'issue': {
        if (state.status !== 'none')
          throw new RuleError(409, 'api_token_exists', 'This API token exists already.');
        const { type: _type, ...data } = command;
        return [{ type: 'api_token.issued', data }];
      }
      case 'revoke':
        if (state.status === 'none')
          throw new RuleError(404, 'api_token_not_found', 'There is no such API token.');
        if (state.status === 'revoked') return [];
        return [{ type: 'api_token.revoked', data: { tokenId: state.tokenId!, userId: command.userId } }];
      default: {
        const never: never = command;
        return never;
      }
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'api_token.issued':
        return { status: 'active', tokenId: event.data.tokenId };
      case 'api_token.revoked':
        return { ...state, status: 'revoked' };
      default: {
        const never: never = event;
        return never;
      }
    }
  },
};
