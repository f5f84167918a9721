import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';

/**
 * The API's rate limit, for HTTP requests only. Handlers of NATS requests and events are not
 * HTTP: the stock guard would read a client address off the message payload (and crash on a
 * `null` body, or put every caller in one bucket). NATS callers are limited by their NATS
 * user's permissions instead.
 */
@Injectable()
export class HttpThrottlerGuard extends ThrottlerGuard {
  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    return context.getType() !== 'http' || super.shouldSkip(context);
  }
}
