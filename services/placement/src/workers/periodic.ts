import { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';

/**
 * A worker that runs `round()` every `intervalMs` from bootstrap to shutdown, never two rounds
 * at once (a slow round delays the next). A failed round is logged and the next one tries again.
 */
export abstract class PeriodicWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  protected constructor(
    private readonly intervalMs: number,
    protected readonly logger: Logger,
    private readonly what: string,
  ) {}

  /** One round over every host. */
  protected abstract round(): Promise<void>;

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.runRound(), this.intervalMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Runs a round now, or waits for the one running (tests use it instead of waiting for the timer). */
  runRound(): Promise<void> {
    this.running ??= this.round()
      .catch((error: unknown) =>
        this.logger.warn({ err: error }, `${this.what} failed; the next round tries again`),
      )
      .finally(() => (this.running = undefined));
    return this.running;
  }
}

/** Runs `work` over `items` with at most `limit` at a time. */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]);
  });
  await Promise.all(lanes);
}
