/**
 * Where "now" comes from. Code outside the domains takes it injected (the CLOCK token of
 * libs/runtime), so that expiries and sweeps are tested by moving a clock, not by waiting;
 * deciders get the time inside their commands and never read a clock themselves.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** The machine's clock: what production runs on. */
export const systemClock: Clock = Object.freeze({ now: () => Date.now() });
