import { fold, RuleError } from '@palisade/domain';
import type { Decider, DomainEvent } from '@palisade/domain';

/** What a command decided: the events, or the code of the RuleError it was refused with. */
export type Decided<E> = { events: E[] } | { error: string };

export interface WhenCommand<C, E> {
  /** Decides `command` on the state the given events fold to. */
  when(command: C): Then<E>;
}

export interface Then<E> {
  /** Asserts the command decided exactly these events (in order). */
  then(expected: E[]): void;
  /** Asserts the command was refused with a RuleError of this code. */
  thenError(code: string): void;
  /** The events, or the RuleError code: for tables of cases (`expect(...decided).toEqual(...)`). */
  readonly decided: E[] | string;
}

/**
 * The given/when/then of a decider (STYLE.md: decider tests): given these events, when this
 * command, then these events or this error.
 *
 *     const org = deciderSpec(organizationDecider);
 *     org.given([created]).when({ type: 'removeMember', userId: 'olga', by: 'olga', now }).thenError('last_owner');
 *
 * Only a RuleError counts as a refusal; any other exception fails the test as the bug it is.
 */
export function deciderSpec<S, C, E extends DomainEvent>(decider: Decider<S, C, E>) {
  return {
    given(events: readonly E[]): WhenCommand<C, E> {
      return {
        when(command: C): Then<E> {
          const decided = decide(decider, events, command);
          const outcome = 'events' in decided ? decided.events : decided.error;
          return {
            decided: outcome,
            then(expected: E[]) {
              expect(outcome).toEqual(expected);
            },
            thenError(code: string) {
              expect(outcome).toBe(code);
            },
          };
        },
      };
    },
  };
}

/** Given `events`, when `command`: what was decided (or the RuleError's code). */
export function decide<S, C, E extends DomainEvent>(
  decider: Decider<S, C, E>,
  events: readonly E[],
  command: C,
): Decided<E> {
  const state = fold(decider, events);
  try {
    return { events: decider.decide(state, command) };
  } catch (error) {
    if (error instanceof RuleError) return { error: error.code };
    throw error;
  }
}
