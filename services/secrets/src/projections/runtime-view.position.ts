import { performance } from 'node:perf_hooks';
import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { RUNTIME_SCHEDULER } from '@palisade/contracts';
import { asPersistence } from '@palisade/persistence';
import { SERVICE_LOGGER, ServiceRuntime } from '@palisade/runtime';
import { Client } from 'pg';
import type { Logger } from 'pino';
import { RUNTIME_VIEW_CHANNEL, RUNTIME_VIEW_DURABLE } from './runtime-view.consumer';

/** How often a waiting resolve looks again without a notification (a missed one, a reconnect). */
const FALLBACK_MS = 200;

/**
 * How far the projection of the runtime-scheduler's events has come: its gap-free watermark (every
 * event up to it applied), and `reach(sequence)` to wait for a producer sequence, woken by the
 * consumer's NOTIFY at each commit. This is what `atLeast` of a resolve waits for.
 */
@Injectable()
export class RuntimeViewPosition implements OnApplicationShutdown {
  private listener?: Promise<Client>;
  private waiters = new Set<() => void>();
  private stopped = false;

  constructor(
    private readonly runtime: ServiceRuntime,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {}

  /** Every runtime-scheduler event up to this sequence is in the view. */
  async watermark(): Promise<number> {
    const row = await asPersistence(this.runtime.db)
      .selectFrom('consumer_positions')
      .select('last_sequence')
      .where('consumer', '=', RUNTIME_VIEW_DURABLE)
      .where('producer', '=', RUNTIME_SCHEDULER.context)
      .executeTakeFirst();
    return Number(row?.last_sequence ?? 0);
  }

  /** Resolves true once the watermark is at `sequence` or beyond, false after `timeoutMs`. */
  async reach(sequence: number, timeoutMs: number): Promise<boolean> {
    if ((await this.watermark()) >= sequence) return true;
    await this.listen().catch(() => undefined);
    // A timeout, not the time of anything: the monotonic clock.
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const remaining = deadline - performance.now();
      if (remaining <= 0) return false;
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, Math.min(FALLBACK_MS, remaining));
        this.waiters.add(wake);
      });
      if ((await this.watermark()) >= sequence) return true;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.wakeAll();
    const client = await this.listener?.catch(() => undefined);
    await client?.end().catch(() => undefined);
  }

  private wakeAll(): void {
    for (const wake of [...this.waiters]) wake();
  }

  /** The LISTEN connection, opened on first need and again after it broke. */
  private listen(): Promise<Client> {
    if (this.stopped) return Promise.reject(new Error('stopped'));
    this.listener ??= (async () => {
      const client = new Client({
        connectionString: this.runtime.options.databaseUrl,
        application_name: 'palisade-secrets-runtime-view',
      });
      client.on('notification', () => this.wakeAll());
      client.on('error', (error) => {
        this.logger.warn({ err: error.message }, 'runtime view listener lost its connection; will reconnect');
        this.listener = undefined;
        void client.end().catch(() => undefined);
      });
      await client.connect();
      await client.query(`listen "${RUNTIME_VIEW_CHANNEL}"`);
      return client;
    })();
    this.listener.catch(() => (this.listener = undefined));
    return this.listener;
  }
}
