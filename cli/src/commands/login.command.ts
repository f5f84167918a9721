import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../targets';

/** What `palisade login` keeps between commands: tokens, never a password. */
export interface StoredCredentials {
  url: string;
  kind: 'session' | 'api_token';
  accessToken?: string;
  refreshToken?: string;
  /** ms since the epoch */
  accessExpiresAt?: number;
  apiToken?: string;
}

/** `$PALISADE_CONFIG_DIR`, else `$XDG_CONFIG_HOME/palisade`, else `~/.config/palisade`. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PALISADE_CONFIG_DIR) return path.resolve(env.PALISADE_CONFIG_DIR);
  const base = env.XDG_CONFIG_HOME ? path.resolve(env.XDG_CONFIG_HOME) : path.join(os.homedir(), '.config');
  return path.join(base, 'palisade');
}

export function credentialsFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(configDir(env), 'credentials.json');
}

/** Writes the credentials with mode 0600 in a 0700 folder (replacing the file atomically). */
export function saveCredentials(credentials: StoredCredentials): void {
  const file = credentialsFile();
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, `${JSON.stringify(credentials)}\n`, { mode: 0o600, flag: 'w' });
  fs.chmodSync(temporary, 0o600);
  fs.renameSync(temporary, file);
}

export function loadCredentials(): StoredCredentials {
  const file = credentialsFile();
  if (!fs.existsSync(file)) throw new UsageError('not signed in: run "palisade login" first');
  return JSON.parse(fs.readFileSync(file, 'utf8')) as StoredCredentials;
}

/** The error sentence of an API answer (never a token). */
export async function apiFailure(response: Response, what: string): Promise<Error> {
  const body = (await response.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
  return new Error(
    `${what} failed (${response.status} ${body.error?.code ?? 'error'}): ${body.error?.message ?? ''}`.trim(),
  );
}

function readSecretFile(file: string, what: string): string {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (!stat) throw new UsageError(`${what} ${file} does not exist`);
  return fs.readFileSync(file, 'utf8').trim();
}

/**
 * `palisade login --url URL --bootstrap-file FILE` signs in with the bootstrap admin credential;
 * `palisade login --url URL --api-token-file FILE` stores an API token. Secrets come from files,
 * never from arguments (which other users can read in the process list).
 */
export async function loginCommand(options: {
  url?: string;
  bootstrapFile?: string;
  apiTokenFile?: string;
}): Promise<number> {
  if (!options.url)
    throw new UsageError('login needs --url, the Palisade API address (e.g. http://127.0.0.1:8080)');
  const url = options.url.replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s]+$/.test(url)) throw new UsageError('--url must be an http(s) URL');
  if (Boolean(options.bootstrapFile) === Boolean(options.apiTokenFile))
    throw new UsageError('login needs exactly one of --bootstrap-file FILE and --api-token-file FILE');

  if (options.apiTokenFile) {
    const apiToken = readSecretFile(options.apiTokenFile, 'the API token file');
    const check = await fetch(`${url}/v1/auth/whoami`, { headers: { authorization: `Bearer ${apiToken}` } });
    if (!check.ok) throw await apiFailure(check, 'checking the API token');
    saveCredentials({ url, kind: 'api_token', apiToken });
  } else {
    const { username, password } = JSON.parse(
      readSecretFile(options.bootstrapFile!, 'the bootstrap file'),
    ) as {
      username?: string;
      password?: string;
    };
    const response = await fetch(`${url}/v1/auth/bootstrap/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    if (!response.ok) throw await apiFailure(response, 'signing in');
    const pair = (await response.json()) as { accessToken: string; refreshToken: string; expiresIn: number };
    saveCredentials({
      url,
      kind: 'session',
      accessToken: pair.accessToken,
      refreshToken: pair.refreshToken,
      accessExpiresAt: Date.now() + pair.expiresIn * 1000,
    });
  }
  process.stdout.write(`signed in to ${url}; credentials in ${credentialsFile()} (mode 0600)\n`);
  return 0;
}
