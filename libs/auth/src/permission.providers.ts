import type { OnApplicationShutdown, Provider } from '@nestjs/common';
import type { AuthzCheck, AuthzDecision } from '@palisade/contracts';
import type { Clock } from '@palisade/domain';
import { CLOCK, ServiceRuntime } from '@palisade/runtime';
import type { NatsConnection } from 'nats';
import { AuthzClient, AuthzClientOptions } from './authz-client';
import { PERMISSION_CHECKER, PermissionChecker } from './permission.guard';

/**
 * Asks authorization over NATS through one AuthzClient (cached decisions, dropped by the
 * organization's events). The client starts on the first question, so a service can start before
 * authorization does; a failed start is retried by the next question.
 */
export class AuthzClientPermissions implements PermissionChecker, OnApplicationShutdown {
  private client?: Promise<AuthzClient>;

  constructor(
    private readonly nc: () => NatsConnection,
    private readonly options: AuthzClientOptions = {},
  ) {}

  async check(check: AuthzCheck): Promise<AuthzDecision> {
    return (await this.authz()).check(check);
  }

  async onApplicationShutdown(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await (await client?.catch(() => undefined))?.stop();
  }

  private authz(): Promise<AuthzClient> {
    if (!this.client) {
      const starting = (async () => {
        const client = new AuthzClient(this.nc(), this.options);
        await client.start();
        return client;
      })();
      this.client = starting;
      starting.catch(() => {
        if (this.client === starting) this.client = undefined;
      });
    }
    return this.client;
  }
}

/** PERMISSION_CHECKER as every service but authorization has it: authorization over the service's NATS connection. */
export function authzClientPermissionProvider(options: AuthzClientOptions = {}): Provider {
  return {
    provide: PERMISSION_CHECKER,
    inject: [ServiceRuntime, CLOCK],
    useFactory: (runtime: ServiceRuntime, clock: Clock) =>
      new AuthzClientPermissions(() => runtime.nc, { clock, ...options }),
  };
}
