// Preloaded (-r) into worker threads that startTypeScriptWorker starts: compiles .ts files with
// swc using the options the parent thread read from tsconfig (PALISADE_WORKER_SWC), the same
// transform @swc-node/register applies, without loading the TypeScript compiler in each thread.
'use strict';
const { transformSync } = require('@swc-node/core');
const { addHook } = require('pirates');

const options = JSON.parse(process.env.PALISADE_WORKER_SWC ?? 'null');
if (!options)
  throw new Error(
    'worker-register.js: PALISADE_WORKER_SWC is not set (start the thread with startTypeScriptWorker)',
  );
addHook((code, filename) => transformSync(code, filename, options).code, { exts: ['.ts'] });
