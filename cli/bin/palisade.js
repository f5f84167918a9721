#!/usr/bin/env node
// The `palisade` command. TypeScript sources run through swc (decorator metadata on),
// configured by the repository's tsconfig.base.json.
'use strict';
const path = require('node:path');
process.env.SWC_NODE_PROJECT ??= path.join(__dirname, '..', '..', 'tsconfig.base.json');
require('@swc-node/register');
require('../src/main.ts');
