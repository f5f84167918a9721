import { ExecutionContext } from '@nestjs/common';
import { problemOf } from '@palisade/runtime';
import { TestClock } from '@palisade/testing';
import { AuthRateLimitGuard } from '../src/abuse/auth-rate-limit.guard';
import type { IdentityConfig } from '../src/identity.config';

function contextFrom(ip: string, headers: Record<string, string>): ExecutionContext {
  return {
    switchToHttp: () => ({
      getRequest: () => ({ ip, socket: {} }),
      getResponse: () => ({ setHeader: (name: string, value: string) => (headers[name] = value) }),
    }),
  } as unknown as ExecutionContext;
}

describe('per-address rate limit of the sign-in and token endpoints', () => {
  it('lets the configured number through per minute and address, then answers 429 rate_limited with Retry-After', () => {
    const guard = new AuthRateLimitGuard(
      { IDENTITY_AUTH_RATE_LIMIT_PER_MINUTE: 3 } as IdentityConfig,
      new TestClock(),
    );
    const headers: Record<string, string> = {};
    for (let i = 0; i < 3; i++) expect(guard.canActivate(contextFrom('10.0.0.1', headers))).toBe(true);
    let refused: unknown;
    try {
      guard.canActivate(contextFrom('10.0.0.1', headers));
    } catch (error) {
      refused = error;
    }
    // What the HTTP filter answers with.
    const answer = problemOf(refused);
    expect(answer.status).toBe(429);
    expect(answer).toMatchObject({ error: { code: 'rate_limited' } });
    expect(Number(headers['Retry-After'])).toBeGreaterThan(0);
    // Another address has its own budget.
    expect(guard.canActivate(contextFrom('10.0.0.2', headers))).toBe(true);
  });

  it('opens a new window a minute later, by the injected clock (no waiting)', () => {
    const clock = new TestClock();
    const guard = new AuthRateLimitGuard({ IDENTITY_AUTH_RATE_LIMIT_PER_MINUTE: 1 } as IdentityConfig, clock);
    const headers: Record<string, string> = {};
    expect(guard.canActivate(contextFrom('10.0.0.3', headers))).toBe(true);
    clock.advance(59_999);
    expect(() => guard.canActivate(contextFrom('10.0.0.3', headers))).toThrow();
    clock.advance(1);
    expect(guard.canActivate(contextFrom('10.0.0.3', headers))).toBe(true);
  });
});
