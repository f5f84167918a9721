import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AUTHORIZATION } from '@palisade/contracts';
import type { AuthzCheck, AuthzDecision } from '@palisade/contracts';
import { readBySequence } from '@palisade/persistence';
import { SERVICE_LOGGER, ServiceRuntime } from '@palisade/runtime';
import type { Subscription } from 'nats';
import type { Logger } from 'pino';
import { AuthzView } from './authz-view';

const PAGE = 5_000;
const POLL_MS = 1_000;

/**
 * Keeps the in-process AuthzView current. The source is the service's own event store, read by
 * producer sequence (gap-free, so nothing is skipped and nothing applied twice). What wakes it:
 * the service's own events on NATS, as a doorbell only (every replica hears every commit), and a
 * poll once a second as a fallback.
 */
@Injectable()
export class AuthzViewProjection implements OnModuleInit, OnApplicationShutdown {
  readonly view = new AuthzView();
  private doorbell?: Subscription;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private waiters: Array<{ sequence: number; resolve: () => void }> = [];

  constructor(
    private readonly runtime: ServiceRuntime,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    const started = performance.now();
    await this.catchUp();
    this.logger.info(
      { orgs: this.view.size, sequence: this.view.sequence, ms: Math.round(performance.now() - started) },
      'authorization view loaded',
    );
    this.doorbell = this.runtime.nc.subscribe(`${AUTHORIZATION.subjects}`, { callback: () => this.kick() });
    this.timer = setInterval(() => this.kick(), POLL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.doorbell?.unsubscribe();
    await this.running;
  }

  /** Resolves once the view reflects `sequence` (or after `timeoutMs`; false then). */
  async reach(sequence: number, timeoutMs = 1_000): Promise<boolean> {
    if (this.view.sequence >= sequence) return true;
    let timer: NodeJS.Timeout | undefined;
    const reached = new Promise<boolean>((resolve) => {
      this.waiters.push({ sequence, resolve: () => resolve(true) });
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    this.kick();
    const outcome = await reached;
    clearTimeout(timer);
    return outcome;
  }

  /**
   * A decision from the view that no committed event contradicts: a denial is checked again
   * after reading what is new in the store, so a request right after the command that allowed it
   * (an organization just created, a member just added) is not refused by a view a moment behind.
   * The write path re-checks everything on the store anyway; this is what HTTP routes ask
   * (authorization's PERMISSION_CHECKER).
   */
  async checkCommitted(request: AuthzCheck, now: number): Promise<AuthzDecision> {
    const decision = this.view.check(request, now);
    if (decision.allowed) return decision;
    this.kick();
    await this.running;
    return this.view.check(request, now);
  }

  /** Reads what is new now; coalesces calls that arrive while reading. */
  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.catchUp().catch((error: unknown) =>
          this.logger.warn({ err: error }, 'authorization view could not catch up; will retry'),
        );
      } while (this.again);
    })().finally(() => {
      this.running = undefined;
    });
  }

  private async catchUp(): Promise<void> {
    for (;;) {
      const from = this.view.sequence + 1;
      const page = await readBySequence(this.runtime.db, from, from + PAGE - 1, PAGE);
      for (const publication of page) {
        const envelope = JSON.parse(publication.json) as { type: string; data: unknown };
        this.view.apply(publication.sequence, envelope.type, envelope.data);
      }
      this.release();
      if (page.length < PAGE) return;
    }
  }

  private release(): void {
    if (this.waiters.length === 0) return;
    const sequence = this.view.sequence;
    const ready = this.waiters.filter((w) => w.sequence <= sequence);
    this.waiters = this.waiters.filter((w) => w.sequence > sequence);
    for (const waiter of ready) waiter.resolve();
  }
}
