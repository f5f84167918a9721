// Runs the placement service alone (one target per pod): `node cli/bin/palisade.js serve --target placement` does the same.
import { runMain } from '@palisade/runtime';
import { placementService } from './index';

runMain([placementService]);
