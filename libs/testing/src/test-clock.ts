import type { Clock } from '@palisade/domain';

/**
 * A clock a test moves by hand: pass it to `startPalisade({ clock })` (every service's CLOCK) or
 * to a class that takes a Clock, then `advance()` past an expiry instead of waiting for it.
 */
export class TestClock implements Clock {
  private current: number;

  constructor(start: number | string = '2026-11-25T10:00:00Z') {
    this.current = typeof start === 'string' ? Date.parse(start) : start;
  }

  now(): number {
    return this.current;
  }

  /** Moves the clock forward by `ms` (never backward). */
  advance(ms: number): this {
    if (!(ms >= 0)) throw new Error(`a TestClock only moves forward (advance(${ms}))`);
    this.current += ms;
    return this;
  }

  /** Sets the clock to an instant (ms since the epoch or ISO 8601). */
  set(instant: number | string): this {
    this.current = typeof instant === 'string' ? Date.parse(instant) : instant;
    return this;
  }
}
