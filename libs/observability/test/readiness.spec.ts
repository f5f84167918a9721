import { ReadinessCheck, ReadinessRegistry } from '../src';

const passing = (name: string, detail?: string): ReadinessCheck => ({
  name,
  check: async () => ({ ok: true, detail }),
});

describe('ReadinessRegistry', () => {
  it('is ready with no checks, and when every check passes', async () => {
    const registry = new ReadinessRegistry();
    expect(await registry.run()).toEqual({ ok: true, checks: [] });
    registry.register(passing('identity:postgres', 'outbox backlog 0'));
    registry.register(passing('identity:nats'));
    const report = await registry.run();
    expect(report.ok).toBe(true);
    expect(report.checks).toEqual([
      { name: 'identity:postgres', ok: true, detail: 'outbox backlog 0', durationMs: expect.any(Number) },
      { name: 'identity:nats', ok: true, durationMs: expect.any(Number) },
    ]);
  });

  it('reports each failing, throwing or hanging check, with secrets masked', async () => {
    const registry = new ReadinessRegistry();
    registry.register(passing('ok'));
    registry.register({ name: 'down', check: async () => ({ ok: false, detail: 'connection closed' }) });
    registry.register({
      name: 'throws',
      check: async () => Promise.reject(new Error('connect postgres://u:hunter2@db/p refused')),
    });
    registry.register({
      name: 'throws-sync',
      check: () => {
        throw new TypeError('boom');
      },
    });
    registry.register({ name: 'hangs', check: () => new Promise(() => undefined) });
    const report = await registry.run(50);
    expect(report.ok).toBe(false);
    expect(Object.fromEntries(report.checks.map((c) => [c.name, [c.ok, c.detail]]))).toEqual({
      ok: [true, undefined],
      down: [false, 'connection closed'],
      throws: [false, 'Error: connect postgres://u:[redacted]@db/p refused'],
      'throws-sync': [false, 'TypeError: boom'],
      hangs: [false, 'timed out after 50 ms'],
    });
  });

  it('refuses two checks with one name, and unregisters', async () => {
    const registry = new ReadinessRegistry();
    const unregister = registry.register(passing('db'));
    expect(() => registry.register(passing('db'))).toThrow(/already registered/);
    unregister();
    expect(registry.names()).toEqual([]);
    registry.register(passing('db'));
    expect(registry.names()).toEqual(['db']);
  });

  it('turns not ready once the application starts shutting down', async () => {
    const registry = new ReadinessRegistry();
    registry.register(passing('db'));
    registry.beforeApplicationShutdown();
    const report = await registry.run();
    expect(report.ok).toBe(false);
    expect(report.checks.at(-1)).toMatchObject({ name: 'shutdown', ok: false });
  });
});
