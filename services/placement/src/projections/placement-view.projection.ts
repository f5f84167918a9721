import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { PLACEMENT } from '@palisade/contracts';
import { readBySequence } from '@palisade/persistence';
import { SERVICE_LOGGER, ServiceRuntime } from '@palisade/runtime';
import { sql } from 'kysely';
import type { Subscription } from 'nats';
import type { Logger } from 'pino';
import { PlacementView } from './placement-view';

const PAGE = 5_000;
const POLL_MS = 1_000;
/**
 * How long a doorbell waits before reading: the events of this process's own commands are in
 * the view already, so the catch-up is for other replicas' news, and one read every few
 * milliseconds under load serves as well as one per event.
 */
const DOORBELL_DELAY_MS = 20;

/**
 * Keeps the in-process PlacementView current from the service's own event store, read by
 * producer sequence. What wakes it: the service's own events on NATS (a doorbell; every replica
 * hears every commit) and a poll once a second. Organizations come from the `organizations`
 * table the organizations consumer fills.
 */
@Injectable()
export class PlacementViewProjection implements OnModuleInit, OnApplicationShutdown {
  readonly view = new PlacementView();
  private doorbell?: Subscription;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private ringing?: NodeJS.Timeout;

  constructor(
    private readonly runtime: ServiceRuntime,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    const started = Date.now();
    const { rows } = await sql<{ org_id: string }>`select org_id from organizations`.execute(this.runtime.db);
    for (const row of rows) this.view.addOrganization(row.org_id);
    await this.catchUp();
    this.logger.info(
      {
        hosts: this.view.index.size,
        organizations: rows.length,
        sequence: this.view.sequence,
        ms: Date.now() - started,
      },
      'placement view loaded',
    );
    this.doorbell = this.runtime.nc.subscribe(PLACEMENT.subjects, { callback: () => this.ring() });
    this.timer = setInterval(() => void this.kick(), POLL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.ringing) clearTimeout(this.ringing);
    this.doorbell?.unsubscribe();
    await this.running;
  }

  private ring(): void {
    this.ringing ??= setTimeout(() => {
      this.ringing = undefined;
      void this.kick();
    }, DOORBELL_DELAY_MS);
  }

  /** Reads what is new now; coalesces calls that arrive while reading. Resolves when caught up. */
  kick(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.catchUp().catch((error: unknown) =>
          this.logger.warn({ err: error }, 'placement view could not catch up; will retry'),
        );
      } while (this.again);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async catchUp(): Promise<void> {
    for (;;) {
      const from = this.view.sequence + 1;
      const page = await readBySequence(this.runtime.db, from, from + PAGE - 1, PAGE);
      for (const publication of page) {
        const envelope = JSON.parse(publication.json) as { type: string; data: unknown };
        this.view.apply(publication.sequence, envelope.type, envelope.data);
      }
      if (page.length < PAGE) return;
    }
  }
}
