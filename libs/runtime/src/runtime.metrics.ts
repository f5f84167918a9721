import { counter, histogram } from '@palisade/observability';

/** Backbone metrics shared by every service in the process (labelled by service). */
export function runtimeMetrics() {
  return {
    published: counter('palisade_outbox_published_total', 'Events the outbox relay published to JetStream', [
      'service',
    ]),
    publishLag: histogram(
      'palisade_outbox_publish_lag_seconds',
      'Time from event creation to JetStream acknowledgement',
      ['service'],
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    ),
  };
}
