// Shared jest settings: TypeScript through swc (with decorator metadata for NestJS DI).
// A few dependencies ship only as ES modules (jose, openid-client and its oauth4webapi); jest's
// CommonJS runtime on Node 20 cannot require them, so swc compiles those packages to CommonJS
// too. Outside jest, Node (>= 20.19) requires them natively.
const ESM_ONLY_PACKAGES = ['jose', 'openid-client', 'oauth4webapi'];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'commonjs' },
        sourceMaps: 'inline',
      },
    ],
    '^.+\\.m?js$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_ONLY_PACKAGES.join('|')})/)`],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/.palisade/'],
  // `npm run build` puts compiled workspaces (with their package.json) in dist/: not modules for the tests.
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
};
