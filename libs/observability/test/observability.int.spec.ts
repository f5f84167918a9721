import { INestApplication, Injectable, Module, OnModuleInit } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { counter, ObservabilityModule, ReadinessRegistry } from '../src';

/** A module elsewhere in the app that registers its checks, as a service module would. */
@Injectable()
class SampleChecks implements OnModuleInit {
  database = { ok: true };
  constructor(private readonly readiness: ReadinessRegistry) {}

  onModuleInit(): void {
    this.readiness.register({
      name: 'sample:postgres',
      check: async () => ({
        ok: this.database.ok,
        detail: this.database.ok ? 'select 1' : 'connection refused',
      }),
    });
  }
}

@Module({ providers: [SampleChecks] })
class SampleModule {}

describe('ObservabilityModule over HTTP', () => {
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ObservabilityModule.forRoot({ readinessTimeoutMs: 200 }), SampleModule],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    const address = app.getHttpServer().address() as { port: number };
    base = `http://127.0.0.1:${address.port}`;
  });

  afterAll(async () => {
    await app?.close();
  });

  it('answers GET /healthz with 200 {status: ok}', async () => {
    const response = await fetch(`${base}/healthz`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('serves the process registry at GET /metrics in Prometheus text format', async () => {
    counter('palisade_int_requests_total', 'Requests seen by the test', ['route']).inc({ route: 'x' });
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(text).toContain('palisade_int_requests_total{route="x"} 1');
    expect(text).toContain('process_resident_memory_bytes');
  });

  it('answers GET /readyz with 200 while every check passes', async () => {
    const response = await fetch(`${base}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'ready',
      checks: [{ name: 'sample:postgres', ok: true, detail: 'select 1', durationMs: expect.any(Number) }],
    });
  });

  it('answers 503 with each check result when one fails or times out', async () => {
    app.get(SampleChecks).database.ok = false;
    const unregister = app
      .get(ReadinessRegistry)
      .register({ name: 'sample:nats', check: () => new Promise(() => undefined) });
    try {
      const response = await fetch(`${base}/readyz`);
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({
        status: 'not_ready',
        checks: [
          {
            name: 'sample:postgres',
            ok: false,
            detail: 'connection refused',
            durationMs: expect.any(Number),
          },
          {
            name: 'sample:nats',
            ok: false,
            detail: 'timed out after 200 ms',
            durationMs: expect.any(Number),
          },
        ],
      });
    } finally {
      unregister();
      app.get(SampleChecks).database.ok = true;
    }
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });
});
