// Runs the authorization service alone (one target per pod): `node cli/bin/palisade.js serve --target authorization` does the same.
import { runMain } from '@palisade/runtime';
import { authorizationService } from './index';

runMain([authorizationService]);
