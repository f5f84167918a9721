// Runs the identity service alone (one target per pod): `node cli/bin/palisade.js serve --target identity` does the same.
import { runMain } from '@palisade/runtime';
import { identityService } from './index';

runMain([identityService]);
