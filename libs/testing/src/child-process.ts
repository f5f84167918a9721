import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

const repoRoot = path.resolve(__dirname, '..', '..', '..');

export interface TsChild {
  process: ChildProcess;
  /** Resolves with the exit code and signal when the child ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

/**
 * Runs a TypeScript file in a separate node process (swc, decorator metadata on), with `env`
 * added to the environment. For tests that need a process to really die.
 */
export function runTsChild(file: string, env: Record<string, string>): TsChild {
  let output = '';
  const child = spawn(process.execPath, ['-r', '@swc-node/register', file], {
    cwd: repoRoot,
    env: { ...process.env, SWC_NODE_PROJECT: path.join(repoRoot, 'tsconfig.base.json'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { process: child, exited, output: () => output.slice(-4000) };
}
