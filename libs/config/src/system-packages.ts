import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A program Palisade needs is missing and could not be installed; the message says how to install it. */
export class MissingDependencyError extends Error {
  readonly code = 'missing_dependency';
  constructor(
    readonly command: string,
    message: string,
  ) {
    super(message);
    this.name = 'MissingDependencyError';
  }
}

export interface EnsureCommandOptions {
  command: string;
  /** The Debian package that provides it. */
  debianPackage: string;
  /** What it is for, in a few words (shown in messages). */
  purpose: string;
  /** Where to get it without apt. */
  manualInstall?: string;
  /** Try `apt-get install` when missing and allowed (default true). */
  allowApt?: boolean;
  /** Search path (default: PATH plus the sbin folders). */
  searchPath?: string;
  /** Progress notes (default: stderr). */
  note?: (line: string) => void;
}

const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin'];
/** Several processes (jest workers, `palisade dev`) may install at once: wait for dpkg's lock instead of failing. */
const APT_LOCK_WAIT = ['-o', 'DPkg::Lock::Timeout=600'];

/** The absolute path of `command` on the search path, if it is there and executable. */
export function findCommand(command: string, searchPath = defaultSearchPath()): string | undefined {
  for (const dir of searchPath.split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, command);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

function defaultSearchPath(): string {
  return [...(process.env.PATH ?? '').split(path.delimiter), ...SBIN].join(path.delimiter);
}

/**
 * Returns the path of a required program. When it is missing and this process may use apt-get
 * (root, or passwordless sudo), installs the Debian package; otherwise throws a
 * MissingDependencyError that says exactly what to install and how.
 */
export function ensureCommand(options: EnsureCommandOptions): string {
  const searchPath = options.searchPath ?? defaultSearchPath();
  const found = findCommand(options.command, searchPath);
  if (found) return found;
  const note = options.note ?? ((line: string) => process.stderr.write(`${line}\n`));
  const reason = aptUnavailableReason(options.allowApt ?? true, searchPath);
  if (!reason) {
    note(
      `${options.command} (${options.purpose}) is missing; installing the Debian package ${options.debianPackage} with apt-get…`,
    );
    const sudo = os.userInfo().uid === 0 ? [] : ['sudo', '-n'];
    const install = () =>
      run([
        ...sudo,
        'apt-get',
        ...APT_LOCK_WAIT,
        'install',
        '-y',
        '-q',
        '--no-install-recommends',
        options.debianPackage,
      ]);
    if (!install().ok) {
      run([...sudo, 'apt-get', ...APT_LOCK_WAIT, 'update', '-q']);
      const retried = install();
      if (!retried.ok)
        throw missing(options, `apt-get install ${options.debianPackage} failed: ${retried.output}`);
    }
    const installed = findCommand(options.command, searchPath);
    if (installed) return installed;
    throw missing(
      options,
      `apt-get installed ${options.debianPackage} but ${options.command} is still not on PATH`,
    );
  }
  throw missing(options, reason);
}

function aptUnavailableReason(allowApt: boolean, searchPath: string): string | undefined {
  if (!allowApt) return 'automatic installation is turned off';
  if (!findCommand('apt-get', searchPath)) return 'this machine has no apt-get';
  if (os.userInfo().uid === 0) return undefined;
  if (!findCommand('sudo', searchPath)) return 'installing needs root, and sudo is not available';
  return run(['sudo', '-n', 'true']).ok ? undefined : 'installing needs root, and sudo asks for a password';
}

function run(argv: string[]): { ok: boolean; output: string } {
  const result = spawnSync(argv[0], argv.slice(1), {
    encoding: 'utf8',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 10 * 60_000,
  });
  const output = `${result.stderr ?? ''}${result.stdout ?? ''}`
    .trim()
    .split('\n')
    .slice(-3)
    .join(' ')
    .slice(0, 400);
  return { ok: result.status === 0, output: output || String(result.error?.message ?? '') };
}

function missing(options: EnsureCommandOptions, reason: string): MissingDependencyError {
  const manual = options.manualInstall ? `, or ${options.manualInstall}` : '';
  return new MissingDependencyError(
    options.command,
    `${options.command} (${options.purpose}) is not installed and could not be installed automatically: ${reason}.\n` +
      `Install it with:  sudo apt-get install -y ${options.debianPackage}   (Debian/Ubuntu)${manual}; then run the command again.`,
  );
}
