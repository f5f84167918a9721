/** A domain event: `{ type: '<entity>.<verb>', data }`. */
export interface DomainEvent<T extends string = string, D = unknown> {
  type: T;
  data: D;
}

/**
 * A decider (see STYLE.md): pure domain logic with no I/O.
 * `decide` returns the events a command causes (or throws a RuleError);
 * `evolve` folds one event into the state.
 */
export interface Decider<S, C, E extends DomainEvent> {
  readonly initialState: S;
  decide(state: S, command: C): E[];
  evolve(state: S, event: E): S;
}

/** Folds events into a state with a decider's evolve. */
export function fold<S, E extends DomainEvent>(
  decider: Pick<Decider<S, never, E>, 'initialState' | 'evolve'>,
  events: readonly E[],
): S {
  return events.reduce((state, event) => decider.evolve(state, event), decider.initialState);
}
