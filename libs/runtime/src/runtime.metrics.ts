import { counter, gauge, histogram, onCollect } from '@palisade/observability';

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

/** What a scrape reads of one service's outbox: events committed but not yet published. */
const backlogReaders = new Map<string, () => Promise<number>>();

/** Reports `service`'s outbox backlog on every scrape until the returned function is called. */
export function reportOutboxBacklog(service: string, read: () => Promise<number>): () => void {
  const backlog = gauge(
    'palisade_outbox_backlog_events',
    'Events committed to the outbox that the relay has not published yet',
    ['service'],
  );
  onCollect(backlog, async () => {
    const readings = await Promise.all(
      [...backlogReaders].map(async ([name, reader]) => [name, await bounded(reader(), -1)] as const),
    );
    backlog.reset();
    for (const [name, value] of readings) if (value >= 0) backlog.set({ service: name }, value);
  });
  backlogReaders.set(service, read);
  return () => {
    if (backlogReaders.get(service) === read) backlogReaders.delete(service);
  };
}

/** A durable consumer as the metrics see it (see DurableConsumer in libs/messaging). */
export interface ObservedConsumer {
  readonly name: string;
  readonly owner: string;
  readonly stream: string;
  status(): { applied: number; deadLettered: number };
  pending(): Promise<{ pending: number; ackPending: number }>;
}

/**
 * Consumer metrics read on every scrape from the consumers `list()` returns: their lag as
 * JetStream counts it (not yet delivered plus delivered but unacknowledged), and the events
 * applied and dead-lettered since the process started.
 */
export function reportConsumers(list: () => readonly ObservedConsumer[]): void {
  const labels = ['service', 'consumer', 'stream'] as const;
  const key = (c: ObservedConsumer) => ({ service: c.owner, consumer: c.name, stream: c.stream });
  const lag = gauge(
    'palisade_consumer_lag_messages',
    'Messages of the stream the durable consumer has not acknowledged yet (JetStream num_pending + num_ack_pending)',
    labels,
  );
  onCollect(lag, async () => {
    const consumers = list();
    const readings = await Promise.all(consumers.map((c) => bounded(c.pending(), undefined)));
    lag.reset();
    consumers.forEach((c, i) => {
      const reading = readings[i];
      if (reading) lag.set(key(c), reading.pending + reading.ackPending);
    });
  });
  const applied = counter('palisade_consumer_applied_total', 'Events the durable consumer applied', labels);
  const dead = counter(
    'palisade_consumer_dead_letters_total',
    'Events the durable consumer moved to its dead-letter stream',
    labels,
  );
  const seen = new WeakMap<ObservedConsumer, { applied: number; deadLettered: number }>();
  // Counters follow the consumers' own counts; every consumer has its series from the start.
  const follow = () => {
    for (const c of list()) {
      const now = c.status();
      const before = seen.get(c) ?? { applied: 0, deadLettered: 0 };
      applied.inc(key(c), Math.max(0, now.applied - before.applied));
      dead.inc(key(c), Math.max(0, now.deadLettered - before.deadLettered));
      seen.set(c, { applied: now.applied, deadLettered: now.deadLettered });
    }
  };
  onCollect(applied, follow);
  onCollect(dead, follow);
}

/** A reading that does not hold a scrape up for more than two seconds (NATS or Postgres down). */
async function bounded<T, F>(reading: Promise<T>, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<F>((resolve) => {
    timer = setTimeout(() => resolve(fallback), 2_000);
  });
  try {
    return await Promise.race([reading.catch(() => fallback), late]);
  } finally {
    clearTimeout(timer);
  }
}
