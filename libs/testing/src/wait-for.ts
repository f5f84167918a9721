import { inspect } from 'node:util';

export interface WaitForOptions {
  /** Give up after this long (default 10 s). */
  timeoutMs?: number;
  /** Time between checks (default 10 ms). */
  intervalMs?: number;
  /** What we are waiting for, for the error message. */
  description: string;
}

/**
 * Waits for a condition instead of sleeping: resolves with the first truthy value `check`
 * returns, or throws after the deadline naming what never happened and the last outcome.
 */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  options: WaitForOptions,
): Promise<Exclude<T, false | 0 | '' | null | undefined>> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 10;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      // A check that never settles must not outlive the deadline.
      const remaining = Math.max(1, deadline - Date.now());
      let timer: NodeJS.Timeout | undefined;
      const value = await Promise.race([
        Promise.resolve(check()),
        new Promise<never>(
          (_, reject) =>
            (timer = setTimeout(
              () => reject(new Error('the check did not settle before the deadline')),
              remaining,
            )),
        ),
      ]).finally(() => clearTimeout(timer));
      if (value) return value as Exclude<T, false | 0 | '' | null | undefined>;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline) {
      const outcome =
        last instanceof Error ? `last error: ${last.message}` : `last value: ${inspect(last, { depth: 2 })}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.description} (${outcome})`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
