import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  SECRET_VALUE_MAX_BYTES,
  secretListReplySchema,
  secretNameSchema,
  setSecretReplySchema,
} from '@palisade/contracts';
import { RuleError, systemClock } from '@palisade/domain';
import { rotateMasterKey, secretValueFromBytes } from '@palisade/secrets';
import { UsageError } from '../targets';
import { apiFailure, loadCredentials } from './login.command';
import { currentBearer } from './whoami.command';

export const SECRET_HELP = `palisade secret: values a workspace's runtimes get as environment variables when they wake

Usage:
  palisade secret set NAME --workspace W --org O
      Sets NAME (upper-case letters, digits and _, starting with a letter; at most 128) to the
      value read from stdin (one trailing newline is dropped), or typed at a hidden prompt when
      stdin is a terminal. Never from the command line: other users can read it in the process
      list. Values are UTF-8, 1..${SECRET_VALUE_MAX_BYTES} bytes, without NUL.
        printf %s "$DATABASE_URL" | palisade secret set DATABASE_URL --workspace api --org acme
  palisade secret list --workspace W --org O [--json]
      Names, versions, who changed them and when, and whether the backend holds that version.
      Never values: no command or API shows a value.
  palisade secret delete NAME --workspace W --org O
  palisade secret rotate-key [--data-dir DIR]
      Rotates the local store's master key while Palisade runs: a new key file entry, every data
      key re-wrapped, the old key removed. Uses DIR/dev.env and DIR/secrets-master.key of
      "palisade dev" (default .palisade); without them, SECRETS_DATABASE_URL (the secrets
      service's login; or DATABASE_URL) and SECRETS_MASTER_KEY_FILE.

Exit codes: 0 done, 1 refused or failed, 2 usage error.
`;

const ARGV_HINT =
  'palisade secret set reads the value from stdin or a hidden prompt, never from the command line ' +
  '(other users can read arguments in the process list). Pipe it in instead: ' +
  'printf %s "$VALUE" | palisade secret set NAME --workspace W --org O';

interface Target {
  orgId: string;
  workspaceId: string;
}

function target(values: { workspace?: string; org?: string }, command: string): Target {
  if (!values.workspace || !values.org)
    throw new UsageError(`secret ${command} needs --workspace W and --org O`);
  return { orgId: values.org, workspaceId: values.workspace };
}

function secretName(positionals: string[], command: string): string {
  if (positionals.length === 0) throw new UsageError(`secret ${command} needs the secret's NAME`);
  if (command === 'set' && (positionals.length > 1 || positionals[0].includes('=')))
    throw new UsageError(ARGV_HINT);
  if (positionals.length > 1) throw new UsageError(`secret ${command} takes one NAME`);
  const parsed = secretNameSchema.safeParse(positionals[0]);
  if (!parsed.success)
    throw new UsageError(
      'NAME must be upper-case letters, digits and _, starting with a letter (at most 128), e.g. DATABASE_URL',
    );
  return parsed.data;
}

/** `/v1/secrets/<org>/<workspace>[/<name>]`, each part escaped. */
function secretsPath({ orgId, workspaceId }: Target, name?: string): string {
  const base = `/v1/secrets/${encodeURIComponent(orgId)}/${encodeURIComponent(workspaceId)}`;
  return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
}

async function api(method: string, pathname: string, body?: unknown): Promise<Response> {
  const credentials = loadCredentials();
  return fetch(`${credentials.url}${pathname}`, {
    method,
    headers: {
      authorization: `Bearer ${await currentBearer(credentials)}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** All of stdin, up to one byte past what a value may hold (and a newline). */
async function readStdin(stdin: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    chunks.push(buffer);
    size += buffer.length;
    if (size > SECRET_VALUE_MAX_BYTES + 2) break;
  }
  return Buffer.concat(chunks);
}

/** One line typed at the terminal without echo. */
function prompt(stdin: NodeJS.ReadStream, question: string): Promise<Buffer> {
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    const typed: number[] = [];
    const done = (error?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(Buffer.from(typed));
    };
    const onData = (data: Buffer) => {
      for (const byte of data) {
        if (byte === 0x03) return done(new UsageError('cancelled'));
        if (byte === 0x0d || byte === 0x0a) return done();
        if (byte === 0x7f || byte === 0x08) {
          // Drop the last character, not half of a multi-byte one.
          do typed.pop();
          while (typed.length && (typed[typed.length - 1] & 0xc0) === 0x80);
        } else typed.push(byte);
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}

/** The value: stdin without one trailing newline, or a hidden prompt at a terminal; checked before it is sent. */
async function readValue(name: string, stdin: SecretCommandIo['stdin']): Promise<string> {
  let bytes: Buffer;
  if (stdin.isTTY) bytes = await prompt(stdin as NodeJS.ReadStream, `Value for ${name} (input hidden): `);
  else {
    bytes = await readStdin(stdin);
    if (bytes.subarray(-2).equals(Buffer.from('\r\n'))) bytes = bytes.subarray(0, -2);
    else if (bytes.subarray(-1).equals(Buffer.from('\n'))) bytes = bytes.subarray(0, -1);
  }
  try {
    return secretValueFromBytes(bytes);
  } catch (error) {
    if (error instanceof RuleError) throw new Error(`the value was not sent: ${error.message}`);
    throw error;
  }
}

function readDevEnv(dir: string): Record<string, string> {
  const file = path.join(dir, 'dev.env');
  if (!fs.existsSync(file)) return {};
  return Object.fromEntries(
    fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

async function rotateKey(dataDir: string | undefined, stdout: SecretCommandIo['stdout']): Promise<number> {
  const dir = path.resolve(dataDir ?? '.palisade');
  const dev = readDevEnv(dir);
  // The secrets service's own login: rows of its schema, nothing else.
  const databaseUrl =
    dev.SECRETS_DATABASE_URL ?? process.env.SECRETS_DATABASE_URL ?? process.env.DATABASE_URL;
  const keyFile = dev.SECRETS_DATABASE_URL
    ? (process.env.SECRETS_MASTER_KEY_FILE ?? path.join(dir, 'secrets-master.key'))
    : process.env.SECRETS_MASTER_KEY_FILE;
  if (!databaseUrl || !keyFile)
    throw new UsageError(
      `no ${path.join(dir, 'dev.env')}: give --data-dir of "palisade dev", or set SECRETS_DATABASE_URL (the secrets service's login) and SECRETS_MASTER_KEY_FILE`,
    );
  const result = await rotateMasterKey({ databaseUrl, keyFile, now: systemClock.now });
  stdout.write(
    `master key rotated: ${result.keyId} (was ${result.previousKeyId}); ${result.rewrapped} data keys re-wrapped; key file ${keyFile}\n`,
  );
  return 0;
}

/** Where a command reads the value from and writes its answer to. */
export interface SecretCommandIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: { write(text: string): unknown };
}

/** `palisade secret set|list|delete|rotate-key ...` */
export async function secretCommand(args: string[], io: SecretCommandIo = process): Promise<number> {
  const { stdout } = io;
  const [sub, ...rest] = args;
  if (sub === undefined || sub === 'help' || sub === '--help') {
    stdout.write(SECRET_HELP);
    return sub === undefined ? 2 : 0;
  }
  if (sub === 'rotate-key') {
    const { values } = parseArgs({ args: rest, options: { 'data-dir': { type: 'string' } }, strict: true });
    return rotateKey(values['data-dir'], stdout);
  }
  if (!['set', 'list', 'delete'].includes(sub))
    throw new UsageError(`unknown secret command "${sub}"; run "palisade secret help"`);
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      workspace: { type: 'string' },
      org: { type: 'string' },
      json: { type: 'boolean' },
      // Known only to refuse it with the hint.
      value: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.value !== undefined) throw new UsageError(ARGV_HINT);
  if (sub === 'list') {
    if (positionals.length) throw new UsageError('secret list takes no NAME');
    const where = target(values, sub);
    const response = await api('GET', secretsPath(where));
    if (!response.ok) throw await apiFailure(response, 'listing secrets');
    const { secrets } = secretListReplySchema.parse(await response.json());
    stdout.write(values.json ? `${JSON.stringify(secrets, null, 2)}\n` : listTable(secrets));
    return 0;
  }
  const name = secretName(positionals, sub);
  const where = target(values, sub);
  if (sub === 'delete') {
    const response = await api('DELETE', secretsPath(where, name));
    if (!response.ok) throw await apiFailure(response, `deleting ${name}`);
    stdout.write(`${name} deleted from ${where.orgId}/${where.workspaceId}\n`);
    return 0;
  }
  const value = await readValue(name, io.stdin);
  const response = await api('PUT', secretsPath(where, name), { value });
  if (!response.ok) throw await apiFailure(response, `setting ${name}`);
  const set = setSecretReplySchema.parse(await response.json());
  stdout.write(
    `${name} ${set.created ? 'created' : 'updated'} in ${where.orgId}/${where.workspaceId} (version ${set.version})\n`,
  );
  return 0;
}

function listTable(secrets: ReturnType<typeof secretListReplySchema.parse>['secrets']): string {
  if (secrets.length === 0) return 'no secrets\n';
  const rows = [
    ['NAME', 'VERSION', 'CHANGED BY', 'CHANGED AT', 'BACKEND', 'STATE'],
    ...secrets.map((s) => [s.name, String(s.version), s.changedBy, s.changedAt, s.backend, s.backendState]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return (
    rows
      .map((r) =>
        r
          .map((cell, i) => cell.padEnd(widths[i]))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}
