import { collectDefaultMetricsOnce, counter, gauge, histogram, metricsRegistry } from '../src';

describe('metrics helpers', () => {
  it('return the existing metric when called twice with the same name', () => {
    const a = counter('palisade_test_events_total', 'Events seen', ['service']);
    const b = counter('palisade_test_events_total', 'Events seen', ['service']);
    expect(b).toBe(a);
    const h1 = histogram('palisade_test_lag_seconds', 'Lag', ['service'], [0.1, 1]);
    expect(histogram('palisade_test_lag_seconds', 'Lag', ['service'], [0.1, 1])).toBe(h1);
    const g1 = gauge('palisade_test_backlog', 'Backlog');
    expect(gauge('palisade_test_backlog', 'Backlog')).toBe(g1);
  });

  it('refuse a second definition of another kind or with other labels', () => {
    counter('palisade_test_conflict_total', 'x', ['a']);
    expect(() => histogram('palisade_test_conflict_total', 'x', ['a'])).toThrow(/not as a histogram/);
    expect(() => counter('palisade_test_conflict_total', 'x', ['b'])).toThrow(/with labels \[a\], not \[b\]/);
  });

  it('register in the process registry, in Prometheus text format', async () => {
    counter('palisade_test_published_total', 'Events published', ['service']).inc({ service: 'identity' }, 3);
    histogram('palisade_test_duration_seconds', 'Durations', [], [0.5]).observe(0.2);
    const text = await metricsRegistry.metrics();
    expect(text).toContain('# HELP palisade_test_published_total Events published');
    expect(text).toContain('palisade_test_published_total{service="identity"} 3');
    expect(text).toContain('palisade_test_duration_seconds_bucket{le="0.5"} 1');
  });

  it('collect the default Node metrics once, however often asked', async () => {
    collectDefaultMetricsOnce();
    collectDefaultMetricsOnce();
    expect(await metricsRegistry.metrics()).toContain('process_cpu_user_seconds_total');
  });
});
