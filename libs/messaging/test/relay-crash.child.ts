// Runs an outbox relay that dies (SIGKILL) right after JetStream acknowledged a batch and
// before the outbox rows are marked published: the worst moment for a crash.
import { createDatabase } from '@palisade/persistence';
import { connect } from 'nats';
import { OutboxRelay } from '../src/outbox-relay';

async function main() {
  const { DATABASE_URL, NATS_URL, SCHEMA, STREAM } = process.env as Record<string, string>;
  const db = createDatabase({ url: DATABASE_URL, schema: SCHEMA });
  const nc = await connect({ servers: NATS_URL });
  const relay = new OutboxRelay({
    db,
    databaseUrl: DATABASE_URL,
    schema: SCHEMA,
    stream: STREAM,
    nc,
    afterPublish: () => {
      process.kill(process.pid, 'SIGKILL');
    },
  });
  await relay.start();
}

main().catch((error) => {
  console.error(error);
  process.exit(3);
});
