import { z } from 'zod';
import { sensitive } from './sensitive';

// Field schemas shared by the base and service configurations. Every message says what is
// expected and never repeats the value it got (which may be a secret).

/** Pino's log levels. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** How Palisade runs: `dev` (local, lenient), `demo` (static demo tokens allowed), `production` (strict). */
export const PALISADE_MODES = ['dev', 'demo', 'production'] as const;
export type PalisadeMode = (typeof PALISADE_MODES)[number];

/** The roles a static demo token can carry. */
export const DEMO_TOKEN_ROLES = ['writer', 'reader'] as const;
export type DemoTokenRole = (typeof DEMO_TOKEN_ROLES)[number];
/** Parsed PALISADE_DEMO_TOKENS: at most one token per role. */
export type DemoTokens = Partial<Record<DemoTokenRole, string>>;
/** The shortest static demo token accepted. */
export const MIN_DEMO_TOKEN_LENGTH = 16;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/** Whether a URL points at this machine (127.0.0.1, localhost or [::1]). */
export function isLoopbackUrl(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname);
}

/** The decoded password of a URL's userinfo, or undefined when it has none (or is not a URL). */
export function urlPassword(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const url = parseUrl(value);
  if (!url || url.password === '') return undefined;
  try {
    return decodeURIComponent(url.password);
  } catch {
    return url.password;
  }
}

/** An enum whose error message lists its choices. */
export function choice<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `must be one of ${values.join(', ')}` });
}

/** A TCP port from the environment (a decimal string, 0..65535; 0 picks a free port). */
export function portField() {
  return z
    .string()
    .refine((value) => /^\d{1,5}$/.test(value) && Number(value) <= 65535, {
      error: 'must be a port number from 0 to 65535',
    })
    .transform(Number);
}

/** A host name or IP address to listen on. */
export function hostField() {
  return z.string().regex(/^(\[[0-9A-Fa-f:.%]+\]|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*|[A-Za-z0-9.-]+)$/, {
    error: 'must be a host name or IP address, e.g. 127.0.0.1 or 0.0.0.0',
  });
}

/** Whether a string is a postgres:// or postgresql:// URL with a host (or a `host=` socket directory). */
export function isPostgresUrl(value: string): boolean {
  const url = parseUrl(value);
  if (!url || (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')) return false;
  return url.hostname !== '' || url.searchParams.has('host');
}

/** A Postgres connection URL; sensitive, and production refuses it without a strong password. */
export function postgresUrlField() {
  return sensitive(
    z.string().refine(isPostgresUrl, {
      error:
        'must be a postgres:// or postgresql:// URL, e.g. postgres://palisade:<password>@127.0.0.1:5432/palisade',
    }),
    { secretPart: urlPassword, requireSecret: true, describe: (key) => `the password in ${key}` },
  );
}

/** A password or other secret string; production checks its strength. */
export function secretField() {
  return sensitive(z.string());
}

/** An optional plain string (e.g. a user name) that must not be blank. */
export function nameField() {
  return z.string().regex(/\S/, { error: 'must not be blank' });
}

const NATS_SCHEMES = new Set(['nats:', 'tls:', 'ws:', 'wss:']);

/** NATS servers: one URL or a comma-separated list (nats://, tls://, ws://, wss:// or host:port); never with credentials. */
export function natsServersField() {
  return z.string().superRefine((value, ctx) => {
    const entries = value.split(',').map((entry) => entry.trim());
    entries.forEach((entry, index) => {
      const which = entries.length > 1 ? `entry ${index + 1}` : 'the server';
      if (entry === '') {
        ctx.addIssue({ code: 'custom', message: `${which} is empty; separate servers with single commas` });
        return;
      }
      const url = parseUrl(entry.includes('://') ? entry : `nats://${entry}`);
      if (!url || !NATS_SCHEMES.has(url.protocol) || url.hostname === '') {
        ctx.addIssue({
          code: 'custom',
          message: `${which} must be a nats://, tls://, ws:// or wss:// URL or host:port`,
        });
      } else if (url.username !== '' || url.password !== '') {
        ctx.addIssue({
          code: 'custom',
          message: `${which} contains credentials, which would be printed and logged with the URL`,
          params: { fix: 'remove them from NATS_URL and set NATS_USER and NATS_PASSWORD instead' },
        });
      }
    });
  });
}

/** An http(s) URL, e.g. an OpenTelemetry collector endpoint. */
export function httpUrlField() {
  return z.string().refine(
    (value) => {
      const url = parseUrl(value);
      return (
        url !== undefined && (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== ''
      );
    },
    { error: 'must be an http:// or https:// URL, e.g. http://127.0.0.1:4318' },
  );
}

/** Whether a value is usable as an OIDC issuer outside production: https, or http on this machine only. */
export function isAcceptableIssuer(value: string): boolean {
  const url = parseUrl(value);
  if (!url || url.hostname === '' || url.search !== '' || url.hash !== '') return false;
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackUrl(url));
}

/** The OIDC issuer URL: https (plain http only for 127.0.0.1/localhost, and never in production). */
export function issuerField() {
  return z.string().refine(isAcceptableIssuer, {
    error:
      'must be an https:// URL without query or fragment (http:// only for 127.0.0.1 or localhost, outside production)',
  });
}

/** Parses "writer:<token>,reader:<token>" without ever quoting a token in its messages. */
export function demoTokensField() {
  return sensitive(
    z
      .string()
      .superRefine((value, ctx) => {
        const entries = value.split(',').map((entry) => entry.trim());
        const roles = new Set<string>();
        const tokens = new Set<string>();
        entries.forEach((entry, index) => {
          const which = `entry ${index + 1}`;
          const colon = entry.indexOf(':');
          const role = colon < 0 ? '' : entry.slice(0, colon);
          const token = colon < 0 ? '' : entry.slice(colon + 1);
          if (colon < 0 || !(DEMO_TOKEN_ROLES as readonly string[]).includes(role)) {
            ctx.addIssue({
              code: 'custom',
              message: `${which} must look like <role>:<token> with role ${DEMO_TOKEN_ROLES.join(' or ')}`,
            });
          } else if (roles.has(role)) {
            ctx.addIssue({
              code: 'custom',
              message: `${which} repeats the ${role} role; give each role one token`,
            });
          } else if (!/^[\x21-\x7e]+$/.test(token) || token.length < MIN_DEMO_TOKEN_LENGTH) {
            ctx.addIssue({
              code: 'custom',
              message: `${which} needs a ${role} token of at least ${MIN_DEMO_TOKEN_LENGTH} printable characters without spaces`,
            });
          } else if (tokens.has(token)) {
            ctx.addIssue({
              code: 'custom',
              message: `${which} reuses another role's token; give each role its own token`,
            });
          }
          roles.add(role);
          tokens.add(token);
        });
      })
      .transform((value): DemoTokens => {
        const parsed: DemoTokens = {};
        for (const entry of value.split(',')) {
          const trimmed = entry.trim();
          const colon = trimmed.indexOf(':');
          parsed[trimmed.slice(0, colon) as DemoTokenRole] = trimmed.slice(colon + 1);
        }
        return parsed;
      }),
    { checkStrength: false },
  );
}

/** A path to a file (certificate, key); blank is refused. Whether it can be read is checked where it is opened. */
export function fileField() {
  return z.string().regex(/\S/, { error: 'must be a file path' });
}
