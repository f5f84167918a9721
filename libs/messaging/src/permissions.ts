import { ContextConstants, DLQ_SUBJECT_ROOT, REPLAY_SUBJECT_ROOT } from '@palisade/contracts';

/** Request/reply subjects: `rpc.<context>.<name>`, served by that context. */
export const RPC_SUBJECT_ROOT = 'rpc';

export function rpcSubject(context: ContextConstants | string, name: string): string {
  const ctx = typeof context === 'string' ? context : context.context;
  return `${RPC_SUBJECT_ROOT}.${ctx}.${name}`;
}

/**
 * Where a service's connection receives replies (its requests, JetStream API answers, pull
 * consumers, publish acknowledgements): `_INBOX.<context>`. Its user may subscribe there only,
 * so no service can read the replies another service receives.
 */
export function inboxPrefix(context: ContextConstants): string {
  return `_INBOX.${context.context}`;
}

export interface NatsPermissions {
  publish: { allow: string[] };
  subscribe: { allow: string[] };
  /** Lets the user answer requests it received, without a blanket publish on _INBOX.>. */
  allow_responses: boolean;
}

/**
 * The least privilege a service's NATS user needs: publish its own events and dead letters,
 * manage only its own streams, read event streams through durable consumers, serve its own
 * replay and rpc subjects, hear its own events, ask other services and get replies under its own
 * inbox prefix (connect with `inboxPrefix(context)`). It cannot publish another context's events,
 * read another service's replies, delete streams or consumers, or purge anything.
 */
export function servicePermissions(context: ContextConstants): NatsPermissions {
  const own = [context.stream, context.deadLetterStream];
  return {
    publish: {
      allow: [
        `evt.${context.context}.>`,
        `${DLQ_SUBJECT_ROOT}.${context.context}.>`,
        `${REPLAY_SUBJECT_ROOT}.*`,
        `${RPC_SUBJECT_ROOT}.>`,
        '$JS.API.INFO',
        '$JS.API.STREAM.INFO.*',
        ...own.flatMap((s) => [`$JS.API.STREAM.CREATE.${s}`, `$JS.API.STREAM.UPDATE.${s}`]),
        '$JS.API.CONSUMER.CREATE.*',
        '$JS.API.CONSUMER.CREATE.*.>',
        '$JS.API.CONSUMER.DURABLE.CREATE.*.*',
        '$JS.API.CONSUMER.INFO.*.*',
        '$JS.API.CONSUMER.MSG.NEXT.*.*',
        '$JS.ACK.>',
      ],
    },
    subscribe: {
      // Its own events too, as a doorbell for in-process views (the store stays the source).
      allow: [
        `${inboxPrefix(context)}.>`,
        context.replaySubject,
        `${RPC_SUBJECT_ROOT}.${context.context}.>`,
        context.subjects,
      ],
    },
    allow_responses: true,
  };
}

export interface NatsUser {
  /** A name, or with `verify_and_map` the client certificate's subject (e.g. `CN=identity,O=palisade`). */
  user: string;
  /**
   * The password, or the environment variable nats-server reads it from when it starts; none
   * for a user identified by its client certificate (see natsTlsConfig).
   */
  password?: string | { env: string };
  permissions?: NatsPermissions;
}

/** An `authorization { users = [...] }` block for nats-server's configuration file. */
export function natsAuthorizationConfig(users: readonly NatsUser[]): string {
  const quote = (value: string) => JSON.stringify(value);
  const list = (values: string[]) => `[${values.map(quote).join(', ')}]`;
  const entries = users.map((u) => {
    const permissions = u.permissions
      ? `, permissions: { publish: { allow: ${list(u.permissions.publish.allow)} }, subscribe: { allow: ${list(u.permissions.subscribe.allow)} }, allow_responses: ${u.permissions.allow_responses} }`
      : '';
    const password =
      u.password === undefined
        ? ''
        : `, password: ${typeof u.password === 'string' ? quote(u.password) : `$${envName(u.password.env)}`}`;
    return `    { user: ${quote(u.user)}${password}${permissions} }`;
  });
  return `authorization {\n  users = [\n${entries.join(',\n')}\n  ]\n}\n`;
}

function envName(name: string): string {
  if (!/^[A-Z_][A-Z0-9_]*$/.test(name)) throw new Error(`"${name}" is not an environment variable name`);
  return name;
}

export interface NatsTlsServerFiles {
  /** The server's certificate and key (PEM). */
  certFile: string;
  keyFile: string;
  /** The CA that clients' certificates must chain to. */
  caFile: string;
  /**
   * true: a client is the user its certificate's subject names (users without passwords);
   * false: a valid client certificate is required, and the user still signs in with a password.
   */
  mapUsersFromCertificates: boolean;
}

/** A `tls { ... }` block for nats-server: TLS required, and a client certificate from the CA (mutual TLS). */
export function natsTlsConfig(files: NatsTlsServerFiles): string {
  const quote = (value: string) => JSON.stringify(value);
  return [
    'tls {',
    `  cert_file: ${quote(files.certFile)}`,
    `  key_file: ${quote(files.keyFile)}`,
    `  ca_file: ${quote(files.caFile)}`,
    files.mapUsersFromCertificates ? '  verify_and_map: true' : '  verify: true',
    '  timeout: 2',
    '}',
    '',
  ].join('\n');
}
