import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Clock } from '@palisade/domain';
import { apiError, CLOCK, SERVICE_CONFIG } from '@palisade/runtime';
import type { Request } from 'express';
import type { IdentityConfig } from '../identity.config';

const WINDOW_MS = 60_000;
const MAX_TRACKED = 100_000;

/**
 * Per-address rate limit of the login and token endpoints (on top of the API-wide limit):
 * IDENTITY_AUTH_RATE_LIMIT_PER_MINUTE requests per client address per minute, then 429.
 * Per-account limits are the persisted failed-login counters (LoginAttempts).
 */
@Injectable()
export class AuthRateLimitGuard implements CanActivate {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: IdentityConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    const address = request.ip ?? request.socket.remoteAddress ?? 'unknown';
    const now = this.clock.now();
    let window = this.windows.get(address);
    if (!window || now - window.start >= WINDOW_MS) {
      if (this.windows.size >= MAX_TRACKED) this.windows.clear();
      window = { start: now, count: 0 };
      this.windows.set(address, window);
    }
    window.count++;
    if (window.count > this.config.IDENTITY_AUTH_RATE_LIMIT_PER_MINUTE) {
      const retryAfter = Math.ceil((window.start + WINDOW_MS - now) / 1000);
      context
        .switchToHttp()
        .getResponse<{ setHeader(name: string, value: string): void }>()
        .setHeader('Retry-After', String(retryAfter));
      throw apiError(
        429,
        'rate_limited',
        `Too many sign-in requests from this address; try again in ${retryAfter} s.`,
      );
    }
    return true;
  }
}
