import { DynamicModule, Module } from '@nestjs/common';
import { accessTokenProviders } from '@palisade/auth';
import { IDENTITY, IDENTITY_EVENTS } from '@palisade/contracts';
import type { Clock } from '@palisade/domain';
import { CLOCK, ServiceRuntime, ServiceRuntimeModule, serviceRuntimeOptions } from '@palisade/runtime';
import { identityMigrations } from '../migrations';
import { AuthRateLimitGuard } from './abuse/auth-rate-limit.guard';
import { LoginAttempts } from './abuse/login-attempts';
import { BootstrapAdmin } from './bootstrap/bootstrap-admin';
import { ApiTokenController } from './http/api-token.controller';
import { JwksController } from './http/jwks.controller';
import { OidcController } from './http/oidc.controller';
import { SessionController } from './http/session.controller';
import { IdentityConfig } from './identity.config';
import { SIGNING_KEY_ENCRYPTION, SigningKeyRing, signingKeyEncryption } from './keys/signing-key.ring';
import { OidcLoginService } from './oidc/oidc-login.service';
import { ApiTokenService, resolveApiToken } from './sessions/api-token.service';
import { IdentityDatabase } from './identity.database';
import { SessionService } from './sessions/session.service';
import { UserDirectory } from './sessions/user.directory';
import { TokenIssuer } from './tokens/token.issuer';

/** The identity service's root module: mounted by its own main.ts and by `palisade dev` / `serve`. */
@Module({})
export class IdentityModule {
  static register(config: IdentityConfig): DynamicModule {
    return {
      module: IdentityModule,
      imports: [
        ServiceRuntimeModule.forService(
          serviceRuntimeOptions(IDENTITY, IDENTITY_EVENTS, identityMigrations, config),
        ),
      ],
      controllers: [JwksController, SessionController, OidcController, ApiTokenController],
      providers: [
        { provide: SIGNING_KEY_ENCRYPTION, useFactory: () => signingKeyEncryption(config) },
        SigningKeyRing,
        TokenIssuer,
        UserDirectory,
        SessionService,
        LoginAttempts,
        AuthRateLimitGuard,
        BootstrapAdmin,
        OidcLoginService,
        ApiTokenService,
        ...accessTokenProviders({
          inject: [ServiceRuntime, SigningKeyRing, CLOCK],
          resolve: (runtime: ServiceRuntime, keys: SigningKeyRing, clock: Clock) => ({
            nc: () => runtime.nc,
            jwks: () => keys.jwks(),
            apiTokens: (hash) => resolveApiToken(runtime.db as IdentityDatabase, hash, clock.now()),
          }),
          demoTokens: config.PALISADE_MODE === 'demo' ? config.PALISADE_DEMO_TOKENS : undefined,
        }),
      ],
    };
  }
}
