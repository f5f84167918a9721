import { connect, NatsConnection } from 'nats';

export interface NatsConnectionOptions {
  /** One URL or a comma-separated list. */
  servers: string;
  user?: string;
  password?: string;
  /** Connection name shown in the server's monitoring (e.g. `palisade-identity`). */
  name: string;
  /** Where replies arrive (`inboxPrefix(context)` for a service: its user may subscribe only there). */
  inboxPrefix?: string;
  /**
   * TLS: the CA the server's certificate must chain to, and a client certificate and key for
   * mutual TLS (PEM files). Without it the connection is plain (loopback only: `palisade dev`).
   */
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

/**
 * Connects to NATS and keeps reconnecting for ever: a service keeps committing to Postgres
 * while NATS is away, and its outbox drains when NATS returns.
 */
export async function connectNats(options: NatsConnectionOptions): Promise<NatsConnection> {
  return connect({
    servers: options.servers
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    user: options.user,
    pass: options.password,
    name: options.name,
    inboxPrefix: options.inboxPrefix,
    ...(options.tls ? { tls: { ...options.tls } } : {}),
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    reconnectJitter: 100,
    waitOnFirstConnect: true,
    timeout: 5_000,
    pingInterval: 10_000,
    // No stack capture per request: at thousands of JetStream publishes a second it was a
    // seventh of the process's CPU. Timeouts still say which subject timed out.
    noAsyncTraces: true,
  });
}
