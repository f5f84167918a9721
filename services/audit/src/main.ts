// Runs the audit service alone (one target per pod): `node cli/bin/palisade.js serve --target audit` does the same.
import { runMain } from '@palisade/runtime';
import { auditService } from './index';

runMain([auditService]);
