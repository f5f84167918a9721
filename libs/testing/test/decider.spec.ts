import { RuleError } from '@palisade/domain';
import type { Decider } from '@palisade/domain';
import { decide, deciderSpec, TestClock } from '../src';

type CounterEvent = { type: 'counter.added'; data: { by: number } };
type CounterCommand = { type: 'add'; by: number } | { type: 'explode' };

/** A counter that refuses to pass 10 (a RuleError) and has a bug on `explode`. */
const counter: Decider<number, CounterCommand, CounterEvent> = {
  initialState: 0,
  decide(state, command) {
    if (command.type === 'explode') throw new TypeError('a bug, not a rule');
    if (state + command.by > 10) throw new RuleError(409, 'counter_full', 'The counter stops at 10.');
    return [{ type: 'counter.added', data: { by: command.by } }];
  },
  evolve: (state, event) => state + event.data.by,
};
const added = (by: number): CounterEvent => ({ type: 'counter.added', data: { by } });

describe('the decider given/when/then helper', () => {
  const spec = deciderSpec(counter);

  it('folds the given events, decides the command, and compares the events', () => {
    spec
      .given([added(4)])
      .when({ type: 'add', by: 6 })
      .then([added(6)]);
    expect(() =>
      spec
        .given([])
        .when({ type: 'add', by: 1 })
        .then([added(2)]),
    ).toThrow();
  });

  it('reports a RuleError by its code', () => {
    spec
      .given([added(4), added(6)])
      .when({ type: 'add', by: 1 })
      .thenError('counter_full');
    expect(spec.given([added(9)]).when({ type: 'add', by: 2 }).decided).toBe('counter_full');
    expect(() => spec.given([]).when({ type: 'add', by: 1 }).thenError('counter_full')).toThrow();
    expect(decide(counter, [], { type: 'add', by: 11 })).toEqual({ error: 'counter_full' });
  });

  it('lets any other exception fail the test as the bug it is', () => {
    expect(() => spec.given([]).when({ type: 'explode' })).toThrow(TypeError);
  });
});

describe('TestClock', () => {
  it('starts where it is told, moves only forward by hand, and can be set', () => {
    const clock = new TestClock('2026-11-25T10:00:00Z');
    expect(clock.now()).toBe(Date.parse('2026-11-25T10:00:00Z'));
    expect(clock.advance(90_000).now()).toBe(Date.parse('2026-11-25T10:01:30Z'));
    expect(() => clock.advance(-1)).toThrow(/only moves forward/);
    expect(clock.set(0).now()).toBe(0);
  });
});
