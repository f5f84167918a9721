// `node -r ./scripts/ts-register.js file.ts`: run TypeScript with swc (decorator metadata on),
// configured by tsconfig.base.json. The same loader the `palisade` command uses.
const path = require('node:path');
process.env.SWC_NODE_PROJECT ??= path.join(__dirname, '..', 'tsconfig.base.json');
require('@swc-node/register');
