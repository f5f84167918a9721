import { parseArgs } from 'node:util';
import { auditCommand } from './commands/audit-verify.command';
import { devCommand } from './commands/dev.command';
import { hostCommand } from './commands/host.command';
import { loginCommand } from './commands/login.command';
import { migrateCommand } from './commands/migrate.command';
import { logoutCommand } from './commands/logout.command';
import { whoamiCommand } from './commands/whoami.command';
import { secretCommand } from './commands/secret.command';
import { serveCommand } from './commands/serve.command';
import { targetNames, UsageError } from './targets';

const HELP = `palisade: the security control plane for organization-isolated development workspaces

Usage:
  palisade dev [--data-dir DIR] [--port N] [--no-engine]
                                               everything in one process: a local nats-server,
                                               an embedded Postgres, all seven services and a
                                               Docker engine as the one host (--no-engine: none)
  palisade serve --target a,b [--port N]       the named services against NATS_URL and DATABASE_URL
  palisade migrate [--target a,b]              create the roles (with DATABASE_ADMIN_URL) and migrate
                                               each schema as MIGRATION_DATABASE_URL's role
  palisade serve --list-targets                the services serve can run
  palisade audit verify|export ...             verify the audit log (or an export) with the public key
  palisade secret set|list|delete|rotate-key   secrets of a workspace (values from stdin, never argv)
  palisade host add|list|show|drain|release|remove ...   the hosts that run workspaces
  palisade login --url URL --oidc [--login-hint H]  sign in through the browser (OIDC)
  palisade login --url URL --bootstrap-file F  sign in with the bootstrap admin credential file
  palisade login --url URL --api-token-file F  use an API token (read from a file)
  palisade whoami                              who the stored credentials belong to
  palisade logout                              end the session and forget the credentials
  palisade help                                this text

Targets: ${targetNames().join(', ')}
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'dev': {
      const { values } = parseArgs({
        args: rest,
        options: {
          'data-dir': { type: 'string' },
          port: { type: 'string' },
          'no-engine': { type: 'boolean' },
        },
        strict: true,
      });
      return devCommand({
        dataDir: values['data-dir'],
        port: parsePort(values.port),
        engine: !values['no-engine'],
      });
    }
    case 'serve': {
      const { values } = parseArgs({
        args: rest,
        options: {
          target: { type: 'string' },
          'list-targets': { type: 'boolean' },
          port: { type: 'string' },
        },
        strict: true,
      });
      if (values['list-targets']) {
        process.stdout.write(`${targetNames().join('\n')}\n`);
        return 0;
      }
      if (!values.target)
        throw new UsageError(`serve needs --target, one or more of: ${targetNames().join(', ')}`);
      return serveCommand({ targets: values.target, port: parsePort(values.port) });
    }
    case 'migrate': {
      const { values } = parseArgs({ args: rest, options: { target: { type: 'string' } }, strict: true });
      return migrateCommand({ targets: values.target });
    }
    case 'audit':
      return auditCommand(rest);
    case 'secret':
      return secretCommand(rest);
    case 'host':
      return hostCommand(rest);
    case 'login': {
      const { values } = parseArgs({
        args: rest,
        options: {
          url: { type: 'string' },
          'bootstrap-file': { type: 'string' },
          'api-token-file': { type: 'string' },
          oidc: { type: 'boolean' },
          'login-hint': { type: 'string' },
        },
        strict: true,
      });
      return loginCommand({
        url: values.url,
        bootstrapFile: values['bootstrap-file'],
        apiTokenFile: values['api-token-file'],
        oidc: values.oidc,
        loginHint: values['login-hint'],
      });
    }
    case 'whoami':
      parseArgs({ args: rest, options: {}, strict: true });
      return whoamiCommand();
    case 'logout':
      parseArgs({ args: rest, options: {}, strict: true });
      return logoutCommand();
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command "${command}"; run "palisade help"`);
  }
}

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port must be 0..65535, not "${value}"`);
  return port;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined && code !== 0) process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError || (error as { code?: string })?.code?.startsWith?.('ERR_PARSE_ARGS')) {
      process.stderr.write(`palisade: ${(error as Error).message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`palisade: ${(error as Error)?.message ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
