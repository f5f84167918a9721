import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findCommand } from '@palisade/config';
import { isAlive } from '@palisade/embedded';
import { testDatabase, waitFor } from '@palisade/testing';
import { serviceLogins } from '@palisade/runtime';

const bin = path.resolve(__dirname, '..', 'bin', 'palisade.js');

interface Run {
  code: Promise<number | null>;
  stdout(): string;
  stderr(): string;
  signal(signal: NodeJS.Signals): void;
}

/** Runs `palisade ...args` (optionally wrapped, e.g. in unshare) in `cwd`. */
function palisade(
  args: string[],
  options: { cwd?: string; env?: Record<string, string | undefined>; wrap?: string[] } = {},
): Run {
  let out = '';
  let err = '';
  const argv = [...(options.wrap ?? []), process.execPath, bin, ...args];
  const child = spawn(argv[0], argv.slice(1), {
    cwd: options.cwd,
    env: { ...process.env, LOG_LEVEL: 'warn', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return {
    code: new Promise((resolve) => child.on('exit', (code) => resolve(code))),
    stdout: () => out,
    stderr: () => err,
    signal: (s) => child.kill(s),
  };
}

const TARGETS = [
  'identity',
  'authorization',
  'placement',
  'secrets',
  'devlink',
  'runtime-scheduler',
  'audit',
];

describe('the palisade command', () => {
  it('lists the targets serve can run', async () => {
    const run = palisade(['serve', '--list-targets']);
    expect(await run.code).toBe(0);
    expect(run.stdout().trim().split('\n')).toEqual(TARGETS);
  });

  it('refuses unknown targets, commands and flags with usage errors (exit 2)', async () => {
    const unknown = palisade(['serve', '--target', 'identity,billing']);
    expect(await unknown.code).toBe(2);
    expect(unknown.stderr()).toContain(`unknown target "billing"; valid targets: ${TARGETS.join(', ')}`);
    const none = palisade(['serve']);
    expect(await none.code).toBe(2);
    expect(none.stderr()).toContain('serve needs --target');
    const twice = palisade(['serve', '--target', 'audit,audit']);
    expect(await twice.code).toBe(2);
    const command = palisade(['deploy']);
    expect(await command.code).toBe(2);
    const flag = palisade(['serve', '--targett', 'audit']);
    expect(await flag.code).toBe(2);
  });

  it('migrates as the migration role, then serves a subset as their own logins, and stops on SIGTERM', async () => {
    const database = await testDatabase();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-serve-'));
    try {
      const roles = serviceLogins(database.url, database.name);
      const logins = {
        MIGRATION_DATABASE_URL: roles.loginUrl('migrator'),
        IDENTITY_DATABASE_URL: roles.loginUrl('identity'),
        AUDIT_DATABASE_URL: roles.loginUrl('audit'),
      };
      const unmigrated = palisade(['serve', '--target', 'identity,audit', '--port', '0'], {
        env: {
          DATABASE_URL: database.url,
          NATS_URL: process.env.NATS_URL,
          IDENTITY_BOOTSTRAP_FILE: path.join(dir, 'bootstrap.json'),
          IDENTITY_KEY_ENCRYPTION_KEY_FILE: path.join(dir, 'identity-key-encryption.key'),
        },
      });
      expect(await unmigrated.code).not.toBe(0);
      expect(unmigrated.stderr()).toMatch(/schema (identity|audit) is not migrated .*run `palisade migrate`/);

      const migrate = palisade(['migrate', '--target', 'identity,audit'], {
        env: { ...logins, DATABASE_ADMIN_URL: database.url },
      });
      expect(await migrate.code).toBe(0);
      expect(migrate.stdout()).toContain(
        `roles: ${database.name}_migrator (migrations) and ${database.name}_identity`,
      );
      expect(migrate.stdout()).toMatch(/identity: schema identity migrated \(\d+ applied\)/);
      // Again, without the admin: the roles exist, nothing is left to apply.
      const again = palisade(['migrate', '--target', 'identity,audit'], { env: logins });
      expect(await again.code).toBe(0);
      expect(again.stdout()).toContain('audit: schema audit up to date');

      const run = palisade(['serve', '--target', 'identity,audit', '--port', '0'], {
        env: {
          IDENTITY_DATABASE_URL: logins.IDENTITY_DATABASE_URL,
          AUDIT_DATABASE_URL: logins.AUDIT_DATABASE_URL,
          NATS_URL: process.env.NATS_URL,
          IDENTITY_BOOTSTRAP_FILE: path.join(dir, 'bootstrap.json'),
          IDENTITY_KEY_ENCRYPTION_KEY_FILE: path.join(dir, 'identity-key-encryption.key'),
        },
      });
      const url = await waitFor(() => /listening on (http:\/\/[\d.:]+)/.exec(run.stdout())?.[1], {
        description: 'serve to listen',
        timeoutMs: 30_000,
      });
      const ready = (await (await fetch(`${url}/readyz`)).json()) as {
        status: string;
        checks: { name: string }[];
      };
      expect(ready.status).toBe('ready');
      expect(
        ready.checks.map((c) => c.name.split(':')[0]).filter((n, i, all) => all.indexOf(n) === i),
      ).toEqual(['identity', 'audit']);
      run.signal('SIGTERM');
      expect(await run.code).toBe(0);
    } finally {
      await database.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports every configuration problem at once and exits 78 without starting', async () => {
    const run = palisade(['serve', '--target', 'identity'], {
      env: {
        DATABASE_URL: 'mysql://nope',
        NATS_URL: 'nats://127.0.0.1:1',
        HTTP_PORT: '99999',
        PALISADE_MODE: 'production',
        PALISADE_DEMO_TOKENS: 'writer:aaaaaaaaaaaaaaaaaaaa',
      },
    });
    expect(await run.code).toBe(78);
    for (const key of ['DATABASE_URL', 'HTTP_PORT', 'PALISADE_DEMO_TOKENS', 'PALISADE_OIDC_ISSUER'])
      expect(run.stderr()).toContain(key);
    expect(run.stdout()).not.toContain('listening');
  });

  it('dev without nats-server and without apt-get says what to install and how, exits non-zero and starts nothing', async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-nonats-'));
    const tools = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-notools-'));
    // A private mount namespace in which Go, nats-server and apt-get are unusable (root only, as
    // CI runs), and an empty folder of pinned tools.
    const hide = [findCommand('go'), '/usr/sbin/nats-server', '/usr/bin/apt-get']
      .filter((p): p is string => p !== undefined && fs.existsSync(p))
      .map((p) => `mount --bind /dev/null ${p}`);
    const run = palisade(['dev'], {
      cwd,
      env: { PALISADE_TOOLS_DIR: tools },
      wrap: [
        'unshare',
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        `${hide.join(' && ')} && exec "$0" "$@"`,
      ],
    });
    expect(await run.code).toBe(1);
    expect(run.stderr()).toContain(
      'nats-server (the NATS JetStream broker) is not installed and could not be installed automatically: this machine has no apt-get',
    );
    expect(run.stderr()).toContain('sudo apt-get install -y nats-server');
    expect(run.stderr()).toContain(
      'install Go and run the command again (Palisade then builds nats-server v2.15.3 itself)',
    );
    expect(fs.readdirSync(cwd)).toEqual([]);
    fs.rmSync(cwd, { recursive: true, force: true });
    fs.rmSync(tools, { recursive: true, force: true });
  });

  it('dev runs everything in one process, stops cleanly on Ctrl-C and reuses its data on the next start', async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-dev-'));
    fs.chmodSync(cwd, 0o755);
    try {
      // No engine answers here: dev starts one of its own (placement's local provider).
      const first = palisade(['dev', '--port', '0'], {
        cwd,
        env: { DOCKER_HOST: `unix://${path.join(cwd, 'no-engine.sock')}` },
      });
      const url = await waitFor(() => /API\s+(http:\/\/[\d.:]+)\/v1/.exec(first.stdout())?.[1], {
        description: 'dev to start',
        timeoutMs: 60_000,
      });
      const ready = (await (await fetch(`${url}/readyz`)).json()) as {
        status: string;
        checks: { name: string; ok: boolean }[];
      };
      expect(ready.status).toBe('ready');
      expect(ready.checks).toHaveLength(TARGETS.length * 2);
      const home = path.join(cwd, '.palisade');
      const natsPid = Number(fs.readFileSync(path.join(home, 'nats', 'nats-server.pid'), 'utf8'));
      const postgresPid = Number(
        fs.readFileSync(path.join(home, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0],
      );
      const secrets = fs.readFileSync(path.join(home, 'secrets.json'), 'utf8');
      expect(first.stdout()).toMatch(/engine {5}a Docker engine of its own/);
      const [engineDir] = fs.readdirSync(path.join(home, 'engines'));
      const dockerdPid = Number(fs.readFileSync(path.join(home, 'engines', engineDir, 'docker.pid'), 'utf8'));
      expect(isAlive(dockerdPid)).toBe(true);
      expect(fs.statSync(path.join(home, 'secrets.json')).mode & 0o777).toBe(0o600);

      first.signal('SIGINT');
      expect(await first.code).toBe(0);
      expect(first.stdout()).toContain('Stopping');
      expect(isAlive(natsPid)).toBe(false);
      expect(isAlive(postgresPid)).toBe(false);
      expect(isAlive(dockerdPid)).toBe(false);
      expect(first.stderr()).not.toMatch(/"level":"(warn|error)"/);

      const second = palisade(['dev', '--port', '0', '--no-engine'], { cwd });
      const url2 = await waitFor(() => /API\s+(http:\/\/[\d.:]+)\/v1/.exec(second.stdout())?.[1], {
        description: 'dev to start again',
        timeoutMs: 60_000,
      });
      expect((await fetch(`${url2}/readyz`)).status).toBe(200);
      expect(fs.readFileSync(path.join(home, 'secrets.json'), 'utf8')).toBe(secrets);
      expect(second.stdout()).toContain('engine     none (--no-engine)');
      second.signal('SIGINT');
      expect(await second.code).toBe(0);
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });
});
