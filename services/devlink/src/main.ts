// Runs the devlink service alone (one target per pod): `node cli/bin/palisade.js serve --target devlink` does the same.
import { runMain } from '@palisade/runtime';
import { devlinkService } from './index';

runMain([devlinkService]);
