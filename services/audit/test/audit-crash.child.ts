// Runs the audit service alone in its own process, so that a test can SIGKILL it mid-batch.
import { startPalisade } from '@palisade/runtime';
import { auditService } from '../src';

startPalisade({ services: [auditService], env: process.env }).then(
  () => process.stdout.write('audit ready\n'),
  (error: unknown) => {
    console.error(error);
    process.exit(3);
  },
);
