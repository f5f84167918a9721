import fs from 'node:fs';
import path from 'node:path';
import { Worker, WorkerOptions } from 'node:worker_threads';

/**
 * Worker threads that run a TypeScript file (importable alone as `@palisade/runtime/worker`).
 * @swc-node/register, which runs this process, loads the TypeScript compiler to read tsconfig:
 * a quarter of a second in every thread it starts in. Here this thread reads the configuration
 * once and each worker compiles with swc under it (worker-register.js): the same code, ready in
 * a fraction of the time.
 */
export function startTypeScriptWorker(
  file: string,
  options: Omit<WorkerOptions, 'env'> & { env?: NodeJS.ProcessEnv } = {},
): Worker {
  // Compiled (npm run build, the image): the worker is plain JavaScript beside this file's caller.
  const compiled = file.replace(/\.ts$/, '.js');
  if (compiled !== file && !fs.existsSync(file) && fs.existsSync(compiled))
    return new Worker(compiled, options);
  return new Worker(file, {
    ...options,
    execArgv: [...(options.execArgv ?? []), '-r', path.join(__dirname, '..', 'worker-register.js')],
    env: { ...(options.env ?? process.env), PALISADE_WORKER_SWC: swcOptions() },
  });
}

const TSCONFIG = path.resolve(__dirname, '..', '..', '..', 'tsconfig.base.json');
let swcOptionsJson: string | undefined;

/** @swc-node/register's swc options for tsconfig.base.json (or SWC_NODE_PROJECT), as JSON. */
function swcOptions(): string {
  if (swcOptionsJson === undefined) {
    // Loaded only here: it loads the TypeScript compiler (which this thread has loaded already
    // when it runs under @swc-node/register).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const tsconfig = require('@swc-node/register/read-default-tsconfig') as {
      readDefaultTsConfig(file: string): { module?: number };
      tsCompilerOptionsToSwcConfig(compilerOptions: object, file: string): object;
    };
    const compilerOptions = tsconfig.readDefaultTsConfig(process.env.SWC_NODE_PROJECT ?? TSCONFIG);
    compilerOptions.module = COMMONJS; // as @swc-node/register compiles
    swcOptionsJson = JSON.stringify(tsconfig.tsCompilerOptionsToSwcConfig(compilerOptions, 'worker.ts'));
  }
  return swcOptionsJson;
}

/** ts.ModuleKind.CommonJS. */
const COMMONJS = 1;
