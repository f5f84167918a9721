// The consumer side of bench:backbone in a process of its own, as a consuming service runs in its
// own pod: applies the ledger's events (inbox + projection) and reports, per micro-batch, each
// event id with the absolute time it was applied (performance.timeOrigin + now, in ms).
import { ledgerFromName, ledgerConsumer, setUpLedger } from '../test/ledger.fixture';
import { openBalances } from './projection';

async function main() {
  const { DATABASE_URL, NATS_URL, LEDGER, DURABLE } = process.env as Record<string, string>;
  const ledger = ledgerFromName(LEDGER);
  const env = await setUpLedger(ledger, DATABASE_URL, NATS_URL);
  const consumer = ledgerConsumer(ledger, env, DURABLE, {
    batchSize: 256,
    handleBatch: openBalances,
    onApplied: (events) => {
      const at = performance.timeOrigin + performance.now();
      process.send!({ applied: events.map((e) => e.id), at });
    },
  });
  await consumer.start();
  process.send!({ ready: true });
  process.on('message', (message: { stop?: boolean }) => {
    if (!message.stop) return;
    void consumer
      .stop()
      .then(() => env.close())
      .then(() => process.exit(0));
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(3);
});
