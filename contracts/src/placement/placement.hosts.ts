import { z } from 'zod';

/** Host labels, and a placement's label constraint: every key must match the host's label exactly. */
export const hostLabelsSchema = z.record(
  z.string().regex(/^[a-z0-9][a-z0-9._/-]{0,62}$/),
  z.string().regex(/^[A-Za-z0-9._-]{0,63}$/),
);
export type HostLabels = z.infer<typeof hostLabelsSchema>;

/** The most labels a host or a constraint carries. */
export const MAX_HOST_LABELS = 32;

/** What a host can hold: CPU (thousandths of a core), memory and a number of runtimes. */
export const hostCapacitySchema = z
  .object({
    cpuMillis: z.int().min(1).max(100_000_000),
    memoryBytes: z.int().min(1).max(Number.MAX_SAFE_INTEGER),
    runtimes: z.int().min(1).max(100_000),
  })
  .strict();
export type HostCapacity = z.infer<typeof hostCapacitySchema>;

/** How a host came to be: registered by an operator (`static`) or started on this machine (`local`). */
export const HOST_PROVIDERS = ['static', 'local'] as const;
export const hostProviderSchema = z.enum(HOST_PROVIDERS);
export type HostProviderName = z.infer<typeof hostProviderSchema>;

/** Where a host's Docker engine listens. */
export type EngineAddress =
  { kind: 'unix'; socketPath: string } | { kind: 'tls'; host: string; port: number };

/** The longest Unix socket path the kernel accepts (sun_path minus its terminating NUL). */
const MAX_SOCKET_PATH = 107;
const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV6 = /^\[[0-9A-Fa-f:.]{2,45}\]$/;

/**
 * Parses an engine URL: `unix:///absolute/path.sock` or `tcp+tls://host:port` (the engine's TLS
 * port; client certificates are configured per host, never in the URL). Returns the address, or
 * a sentence saying what is wrong.
 */
export function parseEngineUrl(url: string): EngineAddress | { error: string } {
  if (typeof url !== 'string' || url.length === 0 || url.length > 1024)
    return { error: 'give the engine as unix:///path/to/docker.sock or tcp+tls://host:port' };
  if (url.startsWith('unix://')) {
    const socketPath = url.slice('unix://'.length);
    if (!socketPath.startsWith('/') || socketPath.length < 2)
      return {
        error: 'a unix:// engine URL needs an absolute socket path, e.g. unix:///var/run/docker.sock',
      };
    if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH)
      return { error: `a Unix socket path has at most ${MAX_SOCKET_PATH} bytes` };
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
    if (/[\u0000-\u001f\u007f]/.test(socketPath) || socketPath.split('/').some((part) => part === '..'))
      return { error: 'the socket path may not contain control characters or ".."' };
    return { kind: 'unix', socketPath };
  }
  if (url.startsWith('tcp+tls://')) {
    const match = /^tcp\+tls:\/\/(\[[^\]]*\]|[^:/]+):(\d{1,5})$/.exec(url);
    if (!match)
      return { error: 'a tcp+tls:// engine URL is tcp+tls://host:port, with nothing after the port' };
    const [, host, portText] = match;
    const port = Number(portText);
    if (port < 1 || port > 65535) return { error: 'the port must be 1..65535' };
    if (!HOSTNAME.test(host) && !IPV6.test(host)) return { error: `"${host}" is not a host name or address` };
    return { kind: 'tls', host, port };
  }
  return {
    error:
      'the engine URL must start with unix:// (a local socket) or tcp+tls:// (a remote engine with TLS); plain tcp:// is refused',
  };
}

const MEMORY_UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  m: 1e6,
  g: 1e9,
  t: 1e12,
  ki: 2 ** 10,
  mi: 2 ** 20,
  gi: 2 ** 30,
  ti: 2 ** 40,
};

/**
 * Parses a capacity as an operator writes it: `cpu=4,memory=8Gi,runtimes=20`. cpu is cores
 * (`4`, `0.5`) or millicores (`500m`); memory is bytes with an optional unit (K, M, G, T or
 * Ki, Mi, Gi, Ti). All three are required, each once. Returns the capacity or what is wrong.
 */
export function parseCapacity(text: string): HostCapacity | { error: string } {
  if (typeof text !== 'string' || text.length > 200)
    return { error: 'write the capacity as cpu=4,memory=8Gi,runtimes=20' };
  const seen = new Map<string, string>();
  for (const part of text.split(',')) {
    const match = /^\s*([a-z]+)\s*=\s*([^\s=,]+)\s*$/.exec(part);
    if (!match) return { error: `"${part.trim()}" is not key=value; write cpu=4,memory=8Gi,runtimes=20` };
    const [, key, value] = match;
    if (!['cpu', 'memory', 'runtimes'].includes(key))
      return { error: `unknown capacity "${key}"; use cpu, memory and runtimes` };
    if (seen.has(key)) return { error: `${key} is given twice` };
    seen.set(key, value);
  }
  const missing = ['cpu', 'memory', 'runtimes'].filter((key) => !seen.has(key));
  if (missing.length)
    return { error: `the capacity needs ${missing.join(' and ')} (cpu=4,memory=8Gi,runtimes=20)` };

  const cpuText = seen.get('cpu')!;
  const cpu = /^(\d{1,9})m$/.exec(cpuText);
  const cores = /^\d{1,6}(\.\d{1,3})?$/.test(cpuText) ? Number(cpuText) : undefined;
  const cpuMillis = cpu ? Number(cpu[1]) : cores !== undefined ? Math.round(cores * 1000) : undefined;
  if (cpuMillis === undefined)
    return { error: `cpu "${cpuText}" is not cores (4, 0.5) or millicores (500m)` };

  const memoryText = seen.get('memory')!;
  const memory = /^(\d{1,16})([KMGT]i?)?$/i.exec(memoryText);
  const memoryBytes = memory ? Number(memory[1]) * MEMORY_UNITS[(memory[2] ?? '').toLowerCase()] : undefined;
  if (memoryBytes === undefined)
    return { error: `memory "${memoryText}" is not bytes with a unit (512Mi, 8Gi, 16G)` };

  const runtimesText = seen.get('runtimes')!;
  const runtimes = /^\d{1,6}$/.test(runtimesText) ? Number(runtimesText) : undefined;
  if (runtimes === undefined) return { error: `runtimes "${runtimesText}" is not a whole number` };

  const parsed = hostCapacitySchema.safeParse({ cpuMillis, memoryBytes, runtimes });
  if (!parsed.success)
    return {
      error: 'every capacity must be above zero (and memory at most 8 PiB, cpu at most 100,000 cores)',
    };
  return parsed.data;
}

/** Parses `zone=a` (a label as the CLI takes it). */
export function parseLabel(text: string): { key: string; value: string } | { error: string } {
  const at = text.indexOf('=');
  if (at <= 0) return { error: `label "${text}" is not key=value` };
  const key = text.slice(0, at);
  const value = text.slice(at + 1);
  const parsed = hostLabelsSchema.safeParse({ [key]: value });
  if (!parsed.success || key === '__proto__')
    return {
      error: `label "${text}": keys are lowercase letters, digits and . _ / - (up to 63); values letters, digits and . _ - (up to 63)`,
    };
  return { key, value };
}

/**
 * The labels the runtime-scheduler puts on every container and volume of a runtime: a wipe
 * finds an organization's objects by them, and the drift detector checks them.
 */
export const RUNTIME_OBJECT_LABELS = {
  org: 'palisade.org',
  workspace: 'palisade.workspace',
  runtime: 'palisade.runtime',
} as const;
