// Runs the secrets service alone (one target per pod): `node cli/bin/palisade.js serve --target secrets` does the same.
import { runMain } from '@palisade/runtime';
import { secretsService } from './index';

runMain([secretsService]);
