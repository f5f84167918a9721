// Runs the runtime-scheduler service alone (one target per pod): `node cli/bin/palisade.js serve --target runtime-scheduler` does the same.
import { runMain } from '@palisade/runtime';
import { runtimeSchedulerService } from './index';

runMain([runtimeSchedulerService]);
