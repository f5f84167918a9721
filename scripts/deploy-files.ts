// `npm run deploy:generate` writes the generated deployment files (compose/nats.conf);
// cli/test/deploy-files.spec.ts fails when they are stale.
import fs from 'node:fs';
import path from 'node:path';
import { COMPOSE_NATS_CONFIG, composeNatsConfig } from '../cli/src/deploy-files';

const file = path.resolve(__dirname, '..', COMPOSE_NATS_CONFIG);
fs.writeFileSync(file, composeNatsConfig());
console.log(`wrote ${COMPOSE_NATS_CONFIG}`);
