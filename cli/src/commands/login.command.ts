import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
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

function saveSession(url: string, pair: TokenPair): void {
  saveCredentials({
    url,
    kind: 'session',
    accessToken: pair.accessToken,
    refreshToken: pair.refreshToken,
    accessExpiresAt: Date.now() + pair.expiresIn * 1000,
  });
}

function readSecretFile(file: string, what: string): string {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (!stat) throw new UsageError(`${what} ${file} does not exist`);
  return fs.readFileSync(file, 'utf8').trim();
}

interface TokenPair {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

/**
 * Browser sign-in through identity's OIDC provider (a loopback redirect): the CLI listens on
 * 127.0.0.1, prints the sign-in address, and receives a one-time code there that only it can
 * exchange (it holds the verifier whose SHA-256 it sent along).
 */
async function oidcLogin(url: string, loginHint: string | undefined, timeoutMs: number): Promise<TokenPair> {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const server = http.createServer();
  let timer: NodeJS.Timeout | undefined;
  try {
    const code = new Promise<string>((resolve, reject) => {
      server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
        const target = new URL(request.url ?? '/', 'http://127.0.0.1');
        const received = target.searchParams.get('code');
        if (target.pathname !== '/callback' || !received) {
          response.writeHead(404).end();
          return;
        }
        response
          .writeHead(200, { 'content-type': 'text/plain' })
          .end('Signed in to Palisade: you can close this window.\n');
        resolve(received);
      });
      timer = setTimeout(
        () => reject(new Error('no sign-in arrived in time; run palisade login again')),
        timeoutMs,
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const start = new URL(`${url}/v1/auth/oidc/login`);
    start.searchParams.set('cli_port', String(port));
    start.searchParams.set('cli_challenge', challenge);
    if (loginHint) start.searchParams.set('login_hint', loginHint);
    process.stdout.write(`Open this address in your browser to sign in:\n  ${start.href}\n`);
    const response = await fetch(`${url}/v1/auth/oidc/handoff`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: await code, verifier }),
    });
    if (!response.ok) throw await apiFailure(response, 'signing in');
    return (await response.json()) as TokenPair;
  } finally {
    clearTimeout(timer);
    server.close();
  }
}

/**
 * `palisade login --url URL --oidc` signs in through the browser (OIDC, loopback redirect);
 * `palisade login --url URL --bootstrap-file FILE` signs in with the bootstrap admin credential;
 * `palisade login --url URL --api-token-file FILE` stores an API token. Secrets come from files,
 * never from arguments (which other users can read in the process list).
 */
export async function loginCommand(options: {
  url?: string;
  bootstrapFile?: string;
  apiTokenFile?: string;
  oidc?: boolean;
  loginHint?: string;
  /** How long to wait for the browser (default 5 minutes). */
  timeoutMs?: number;
}): Promise<number> {
  if (!options.url)
    throw new UsageError('login needs --url, the Palisade API address (e.g. http://127.0.0.1:8080)');
  const url = options.url.replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s]+$/.test(url)) throw new UsageError('--url must be an http(s) URL');
  if ([options.bootstrapFile, options.apiTokenFile, options.oidc].filter(Boolean).length !== 1)
    throw new UsageError(
      'login needs exactly one of --oidc, --bootstrap-file FILE and --api-token-file FILE',
    );

  if (options.apiTokenFile) {
    const apiToken = readSecretFile(options.apiTokenFile, 'the API token file');
    const check = await fetch(`${url}/v1/auth/whoami`, { headers: { authorization: `Bearer ${apiToken}` } });
    if (!check.ok) throw await apiFailure(check, 'checking the API token');
    saveCredentials({ url, kind: 'api_token', apiToken });
  } else if (options.oidc) {
    const pair = await oidcLogin(url, options.loginHint, options.timeoutMs ?? 5 * 60_000);
    saveSession(url, pair);
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
    saveSession(url, (await response.json()) as TokenPair);
  }
  process.stdout.write(`signed in to ${url}; credentials in ${credentialsFile()} (mode 0600)\n`);
  return 0;
}
