import fs from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { describeResult, exportDatabaseToFile, verifyDatabase, verifyExportFile } from '@palisade/audit';
import { UsageError } from '../targets';

export const AUDIT_HELP = `palisade audit: check the tamper-evident audit log

Usage:
  palisade audit verify --public-key KEY [--database-url URL | --file EXPORT.ndjson]
                        [--trusted-checkpoint FILE] [--threads N]
      Verifies every entry (sequence, checksum, hash chain, columns) and every checkpoint
      (Ed25519 signature, Merkle root, order). Prints the first bad sequence and why.
      KEY is a file with the SPKI PEM (GET /v1/audit/public-key) or the base64 raw key; repeat it
      for rotated keys. Without --file, reads the audit schema of --database-url (default
      AUDIT_DATABASE_URL or DATABASE_URL). --trusted-checkpoint: a checkpoint (JSON) seen earlier,
      e.g. from the checkpoint.signed event stream; the log must still match and reach it.
      --threads N: check the database's log in N threads, each reading its own ranges (default:
      the machine's cores; the verdict is the same for any N).
  palisade audit export --out FILE [--database-url URL]
      Writes the whole log as NDJSON (checkpoints, then entries) for offline verification.

Exit codes: 0 verified, 1 verification failed, 2 usage error.
`;

function textOrFile(value: string): string {
  return fs.existsSync(value) ? fs.readFileSync(value, 'utf8') : value;
}

function databaseUrl(flag: string | undefined): string {
  const url = flag ?? process.env.AUDIT_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!url)
    throw new UsageError('give --database-url (or set AUDIT_DATABASE_URL or DATABASE_URL), or --file');
  return url;
}

/** `palisade audit verify|export ...` */
export async function auditCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === 'help' || sub === '--help') {
    process.stdout.write(AUDIT_HELP);
    return sub === undefined ? 2 : 0;
  }
  if (sub === 'export') {
    const { values } = parseArgs({
      args: rest,
      options: { out: { type: 'string' }, 'database-url': { type: 'string' } },
      strict: true,
    });
    if (!values.out) throw new UsageError('audit export needs --out FILE');
    const count = await exportDatabaseToFile(databaseUrl(values['database-url']), values.out);
    process.stdout.write(`exported ${count} entries to ${values.out}\n`);
    return 0;
  }
  if (sub !== 'verify') throw new UsageError(`unknown audit command "${sub}"; run "palisade audit help"`);
  const { values } = parseArgs({
    args: rest,
    options: {
      'public-key': { type: 'string', multiple: true },
      'database-url': { type: 'string' },
      file: { type: 'string' },
      'trusted-checkpoint': { type: 'string', multiple: true },
      threads: { type: 'string' },
    },
    strict: true,
  });
  if (!values['public-key']?.length)
    throw new UsageError(
      'audit verify needs --public-key (the key is what you trust; the log cannot vouch for itself)',
    );
  if (values.file && values['database-url'])
    throw new UsageError('give either --file or --database-url, not both');
  const sources = {
    publicKeys: values['public-key'].map(textOrFile),
    trusted: (values['trusted-checkpoint'] ?? []).map(textOrFile),
  };
  const threads = values.threads === undefined ? availableParallelism() : Number(values.threads);
  if (!Number.isInteger(threads) || threads < 1 || threads > 64)
    throw new UsageError(`--threads must be a whole number from 1 to 64, not "${values.threads}"`);
  const url = values.file ? undefined : databaseUrl(values['database-url']);
  let result;
  try {
    result = await (url ? verifyDatabase(url, sources, threads) : verifyExportFile(values.file!, sources));
  } catch (error) {
    const e = error as { code?: string; name?: string; message: string };
    if (e.code === 'invalid_signing_key') throw new UsageError(e.message);
    if (e.name === 'SyntaxError' || e.name === 'ZodError')
      throw new UsageError(
        '--trusted-checkpoint must be a checkpoint as JSON (GET /v1/audit/checkpoints/latest)',
      );
    throw error;
  }
  (result.ok ? process.stdout : process.stderr).write(`${describeResult(result)}\n`);
  return result.ok ? 0 : 1;
}
