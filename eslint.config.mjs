// ESLint flat config for the whole workspace. See docs/development.md, "Tooling".
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import { createProjectGraphAsync } from '@nx/devkit';
import prettier from 'eslint-config-prettier';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

// @nx/enforce-module-boundaries reads the project graph from Nx's cache (.nx/workspace-data)
// and silently SKIPS itself when there is none (a fresh clone, CI). Build it here, so every
// way of running ESLint (npm run lint, npx eslint <file>, an editor) checks boundaries
// against the projects and tags as they are now. Without the daemon this takes ~1 s.
await createProjectGraphAsync({ exitOnError: false });

/** Who may import whom. Tags live in each project's package.json under "nx.tags". */
const depConstraints = [
  // contracts is the leaf: zod schemas and constants, npm packages only.
  { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: [] },
  // infrastructure: other libs and contracts, never a service or the CLI.
  {
    sourceTag: 'type:lib',
    onlyDependOnLibsWithTags: ['type:lib', 'type:contracts'],
  },
  // a service learns about other contexts from events, never by importing another service.
  {
    sourceTag: 'type:service',
    onlyDependOnLibsWithTags: ['type:lib', 'type:contracts'],
  },
  // the `palisade` command mounts everything.
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['*'] },
];

export default defineConfig(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/coverage/**',
      '**/.palisade/**',
      '.nx/**',
      'tmp/**',
      'docs/events/**', // generated from contracts/
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.{ts,mts,cts,js,mjs,cjs}'],
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          // also reports relative/absolute imports that reach into another project
          allow: [],
          depConstraints,
        },
      ],
    },
  },
  {
    files: ['**/*.ts'],
    rules: {
      // `_` marks a parameter or binding that is unused on purpose (interface shapes, rest omits)
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
    },
  },
  {
    // A few type-aware rules, chosen for a codebase built on promises (NATS acks, outbox
    // publishes, transactions): a forgotten `await` loses work silently. One TypeScript program
    // from tsconfig.json serves every file; this costs a few seconds, not a full
    // recommendedTypeChecked run.
    files: ['{contracts,libs,services,cli,scripts,bench}/**/*.ts'],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    // A domain is pure and framework-free (STYLE.md): it raises RuleError from @palisade/domain
    // and never loads NestJS, directly or through a lib that does. Types alone are fine.
    files: ['services/*/src/domain/**/*.ts', 'libs/domain/src/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@nestjs/*', 'express', '@palisade/runtime', '@palisade/auth', '@palisade/messaging'],
              allowTypeImports: true,
              message:
                'A domain is framework-free: throw RuleError from @palisade/domain; see docs/architecture.md.',
            },
          ],
        },
      ],
    },
  },
  {
    // plain JavaScript here is CommonJS run by Node (jest configs, cli/bin)
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        exports: 'writable',
        __dirname: 'readonly',
        __filename: 'readonly',
        process: 'readonly',
        console: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  // last: turn off every stylistic rule that Prettier owns
  prettier,
);
