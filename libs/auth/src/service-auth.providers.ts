import type { Provider } from '@nestjs/common';
import type { BaseConfig } from '@palisade/config';
import type { Clock } from '@palisade/domain';
import { CLOCK, ServiceRuntime } from '@palisade/runtime';
import { accessTokenProviders } from './access-token.guard';
import { natsApiTokenResolver } from './api-token.resolver';
import { authzClientPermissionProvider } from './permission.providers';

export interface ServiceAuthOptions {
  /**
   * What @RequirePermission asks (PERMISSION_CHECKER). Default: authorization over NATS. Only
   * authorization itself, which decides from its own view, gives another.
   */
  permissions?: Provider;
}

/**
 * What a service other than identity adds to know its callers and check their permissions:
 * identity's JWKS and revocations over the service's own NATS connection, API tokens resolved
 * by identity, demo tokens only in demo mode, and the checker behind @RequirePermission.
 */
export function serviceAccessTokenProviders(
  config: Pick<BaseConfig, 'PALISADE_MODE' | 'PALISADE_DEMO_TOKENS'>,
  options: ServiceAuthOptions = {},
): Provider[] {
  return [options.permissions ?? authzClientPermissionProvider(), ...serviceCredentialProviders(config)];
}

function serviceCredentialProviders(
  config: Pick<BaseConfig, 'PALISADE_MODE' | 'PALISADE_DEMO_TOKENS'>,
): Provider[] {
  return accessTokenProviders({
    inject: [ServiceRuntime, CLOCK],
    resolve: (runtime: ServiceRuntime, clock: Clock) => ({
      nc: () => runtime.nc,
      apiTokens: natsApiTokenResolver(() => runtime.nc, undefined, clock),
    }),
    demoTokens: config.PALISADE_MODE === 'demo' ? config.PALISADE_DEMO_TOKENS : undefined,
  });
}
