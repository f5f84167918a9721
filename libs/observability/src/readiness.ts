import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import { gauge, onCollect } from './metrics';
import { redactString } from './redaction';

/** Something the process needs before it can take traffic (a database, NATS, ...). */
export interface ReadinessCheck {
  name: string;
  check(): Promise<{ ok: boolean; detail?: string }>;
}

/** One check's outcome as GET /readyz reports it. */
export interface ReadinessCheckResult {
  name: string;
  ok: boolean;
  detail?: string;
  durationMs: number;
}

export interface ReadinessReport {
  ok: boolean;
  checks: ReadinessCheckResult[];
}

/** How long one check may take before it counts as failed. */
export const DEFAULT_READINESS_TIMEOUT_MS = 2_000;

/** Details are shown to whoever can reach /readyz: one line, bounded, secrets masked. */
function cleanDetail(detail: string): string {
  return redactString(detail.replace(/\s+/g, ' ').trim()).slice(0, 300);
}

/** The process's readiness checks: modules register theirs; GET /readyz runs them all. */
@Injectable()
export class ReadinessRegistry implements BeforeApplicationShutdown {
  private readonly checks = new Map<string, ReadinessCheck>();
  private draining = false;

  constructor() {
    // Each scrape runs the checks: palisade_ready{check} is 1 for a passing check, 0 otherwise.
    // The newest registry of the process reports (one application per process).
    const ready = gauge('palisade_ready', 'Readiness checks (1 passing, 0 failing), as /readyz runs them', [
      'check',
    ]);
    onCollect(ready, async () => {
      const report = await this.run();
      ready.reset();
      for (const check of report.checks) ready.set({ check: check.name }, check.ok ? 1 : 0);
    });
  }

  /** Adds a check (names are unique); returns a function that removes it. */
  register(check: ReadinessCheck): () => void {
    if (this.checks.has(check.name)) throw new Error(`readiness check "${check.name}" is already registered`);
    this.checks.set(check.name, check);
    return () => {
      if (this.checks.get(check.name) === check) this.checks.delete(check.name);
    };
  }

  /** The names of the registered checks. */
  names(): string[] {
    return [...this.checks.keys()];
  }

  /** Runs every check concurrently, each bounded by `timeoutMs`; ready when all pass and the app is not shutting down. */
  async run(timeoutMs = DEFAULT_READINESS_TIMEOUT_MS): Promise<ReadinessReport> {
    const checks = await Promise.all([...this.checks.values()].map((check) => runOne(check, timeoutMs)));
    if (this.draining)
      checks.push({ name: 'shutdown', ok: false, detail: 'the process is shutting down', durationMs: 0 });
    return { ok: checks.every((check) => check.ok), checks };
  }

  /** From here on /readyz answers 503, so load balancers stop sending traffic before the server closes. */
  beforeApplicationShutdown(): void {
    this.draining = true;
  }
}

async function runOne(check: ReadinessCheck, timeoutMs: number): Promise<ReadinessCheckResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ ok: boolean; detail?: string }>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, detail: `timed out after ${timeoutMs} ms` }), timeoutMs);
  });
  try {
    const result = await Promise.race([Promise.resolve().then(() => check.check()), timeout]);
    const ok = result?.ok === true;
    const detail = typeof result?.detail === 'string' ? cleanDetail(result.detail) : undefined;
    return {
      name: check.name,
      ok,
      ...(detail === undefined ? {} : { detail }),
      durationMs: elapsed(started),
    };
  } catch (error) {
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : 'check failed';
    return { name: check.name, ok: false, detail: cleanDetail(detail), durationMs: elapsed(started) };
  } finally {
    clearTimeout(timer);
  }
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}
