import type { Provider } from '@nestjs/common';
import type { BaseConfig } from '@palisade/config';
import { ServiceRuntime } from '@palisade/runtime';
import { accessTokenProviders } from './access-token.guard';
import { natsApiTokenResolver } from './api-token.resolver';

/**
 * What a service other than identity adds to verify callers: identity's JWKS and revocations
 * over the service's own NATS connection, API tokens resolved by identity, demo tokens only in
 * demo mode.
 */
export function serviceAccessTokenProviders(
  config: Pick<BaseConfig, 'PALISADE_MODE' | 'PALISADE_DEMO_TOKENS'>,
): Provider[] {
  return accessTokenProviders({
    inject: [ServiceRuntime],
    resolve: (runtime: ServiceRuntime) => ({
      nc: () => runtime.nc,
      apiTokens: natsApiTokenResolver(() => runtime.nc),
    }),
    demoTokens: config.PALISADE_MODE === 'demo' ? config.PALISADE_DEMO_TOKENS : undefined,
  });
}
