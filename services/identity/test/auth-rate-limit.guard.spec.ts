import { ExecutionContext } from '@nestjs/common';
import { problemOf } from '@palisade/runtime';
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
    const guard = new AuthRateLimitGuard({ IDENTITY_AUTH_RATE_LIMIT_PER_MINUTE: 3 } as IdentityConfig);
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
});
