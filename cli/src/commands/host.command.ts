import { parseArgs } from 'node:util';
import { parseCapacity, parseEngineUrl, parseLabel } from '@palisade/contracts';
import { UsageError } from '../targets';
import { apiFailure, loadCredentials } from './login.command';
import { currentBearer } from './whoami.command';

export const HOST_HELP = `palisade host: the machines that run workspaces (one Docker engine each)

Usage:
  palisade host add --engine URL --capacity cpu=4,memory=8Gi,runtimes=20 [--label zone=a ...] [--id ID]
      Registers a host in the free pool. URL is unix:///path/docker.sock or tcp+tls://host:port
      (client certificates in PLACEMENT_ENGINE_TLS_DIR/<host>/ on the server). The engine must
      answer; what it holds now is kept by every wipe.
  palisade host list [--org ORG]       every host (operators), or the hosts of ORG (its members)
  palisade host show ID [--org ORG]    one host: whose it is, its health, what runs there
  palisade host drain ID               place nothing new there; its runtimes run until they sleep
  palisade host release ID             evict its runtimes, wipe the engine, back to the free pool
  palisade host remove ID              remove a host of no organization (free or quarantined)

Managing hosts is for the owners and admins of the system organization (host.manage).
`;

interface HostView {
  hostId: string;
  engine?: string;
  status: string;
  orgId: string | null;
  healthy: boolean;
  draining: boolean;
  labels: Record<string, string>;
  capacity: { cpuMillis: number; memoryBytes: number; runtimes: number };
  used: { cpuMillis: number; memoryBytes: number; runtimes: number };
  quarantine?: { reason: string; detail: string } | null;
}

const GiB = 2 ** 30;

function usage<T>(parsed: T | { error: string }, what: string): T {
  if (parsed && typeof parsed === 'object' && 'error' in parsed)
    throw new UsageError(`${what}: ${parsed.error}`);
  return parsed as T;
}

async function api(method: string, path: string, body?: unknown): Promise<unknown> {
  const credentials = loadCredentials();
  const response = await fetch(`${credentials.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${await currentBearer(credentials)}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw await apiFailure(response, `${method} ${path}`);
  return response.json();
}

/** One line per host, for `palisade host list`. */
export function hostTable(hosts: readonly HostView[]): string {
  const rows = hosts.map((h) => [
    h.hostId,
    h.status + (h.draining ? ',draining' : ''),
    h.orgId ?? '-',
    h.healthy ? 'healthy' : 'UNHEALTHY',
    `${h.used.runtimes}/${h.capacity.runtimes}`,
    `${h.used.cpuMillis / 1000}/${h.capacity.cpuMillis / 1000}`,
    `${(h.used.memoryBytes / GiB).toFixed(1)}/${(h.capacity.memoryBytes / GiB).toFixed(1)}Gi`,
    Object.entries(h.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',') || '-',
  ]);
  const header = ['HOST', 'STATUS', 'ORG', 'HEALTH', 'RUNTIMES', 'CPU', 'MEMORY', 'LABELS'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows]
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** `palisade host add|list|show|drain|release|remove ...` */
export async function hostCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const write = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  switch (sub) {
    case 'add': {
      const { values } = parseArgs({
        args: rest,
        options: {
          engine: { type: 'string' },
          capacity: { type: 'string' },
          label: { type: 'string', multiple: true },
          id: { type: 'string' },
        },
        strict: true,
      });
      if (!values.engine || !values.capacity) throw new UsageError('host add needs --engine and --capacity');
      usage(parseEngineUrl(values.engine), '--engine');
      const labels: Record<string, string> = {};
      for (const text of values.label ?? []) {
        const { key, value } = usage(parseLabel(text), '--label');
        labels[key] = value;
      }
      const host = (await api('POST', '/v1/hosts', {
        ...(values.id ? { hostId: values.id } : {}),
        engine: values.engine,
        capacity: usage(parseCapacity(values.capacity), '--capacity'),
        labels,
      })) as HostView;
      process.stdout.write(`registered ${host.hostId} (free, healthy)\n`);
      return 0;
    }
    case 'list': {
      const { values } = parseArgs({ args: rest, options: { org: { type: 'string' } }, strict: true });
      const path = values.org ? `/v1/orgs/${encodeURIComponent(values.org)}/hosts` : '/v1/hosts';
      const { items } = (await api('GET', path)) as { items: HostView[] };
      process.stdout.write(`${hostTable(items)}\n`);
      return 0;
    }
    case 'show': {
      const { values, positionals } = parseArgs({
        args: rest,
        options: { org: { type: 'string' } },
        allowPositionals: true,
        strict: true,
      });
      const id = oneId(positionals, 'show');
      write(
        await api(
          'GET',
          values.org ? `/v1/orgs/${encodeURIComponent(values.org)}/hosts/${id}` : `/v1/hosts/${id}`,
        ),
      );
      return 0;
    }
    case 'drain':
    case 'release':
    case 'remove': {
      const { positionals } = parseArgs({ args: rest, options: {}, allowPositionals: true, strict: true });
      const id = oneId(positionals, sub);
      const host = (await (sub === 'remove'
        ? api('DELETE', `/v1/hosts/${id}`)
        : api('POST', `/v1/hosts/${id}/${sub}`))) as Partial<HostView>;
      const said = { drain: 'draining', release: 'released: wiping its engine', remove: 'removed' }[sub];
      process.stdout.write(`${id} ${said}${host.orgId ? ` (was ${host.orgId}'s)` : ''}\n`);
      return 0;
    }
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(HOST_HELP);
      return sub === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown host command "${sub}"; run "palisade host help"`);
  }
}

function oneId(positionals: string[], command: string): string {
  if (positionals.length !== 1) throw new UsageError(`host ${command} takes one host id`);
  if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(positionals[0]))
    throw new UsageError(`"${positionals[0]}" is not a host id (lowercase letters, digits and -)`);
  return positionals[0];
}
