import {
  CanActivate,
  createParamDecorator,
  ExecutionContext,
  Inject,
  Injectable,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  Provider,
} from '@nestjs/common';
import type { DemoTokens } from '@palisade/config';
import type { Clock } from '@palisade/domain';
import { CLOCK } from '@palisade/runtime';
import type { Request } from 'express';
import type { NatsConnection } from 'nats';
import { AccessTokenVerifier, ApiTokenResolver } from './access-token.verifier';
import { natsApiTokenResolver } from './api-token.resolver';
import { JwksFetcher, JwksKeyStore } from './jwks-key-store';
import { Principal } from './principal';
import { followRevocations, natsJwksFetcher, RevocationFeed } from './revocation-feed';
import { RevocationList } from './revocation-list';

/** Injection token of a service's AccessTokenVerifier. */
export const ACCESS_TOKEN_VERIFIER = Symbol.for('palisade.auth.verifier');
/** Injection token of the RevocationList behind it (identity adds its own revocations at once). */
export const ACCESS_TOKEN_REVOCATIONS = Symbol.for('palisade.auth.revocations');

/** The request property the guard puts the principal on. */
const PRINCIPAL = Symbol.for('palisade.auth.principal');

/** `Authorization: Bearer <token>` → the token (undefined when absent or another scheme). */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer ([\x21-\x7e]+)$/i.exec(header.trim());
  return match?.[1];
}

/**
 * Lets a request through only with a valid Palisade credential and puts its principal on the
 * request (`@CurrentPrincipal()`). Identity only: what the principal may do is authorization's.
 */
@Injectable()
export class AccessTokenGuard implements CanActivate {
  constructor(@Inject(ACCESS_TOKEN_VERIFIER) private readonly verifier: AccessTokenVerifier) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<Request & { [PRINCIPAL]?: Principal }>();
    // Already verified by an earlier guard of the same request (RequirePermission runs this one first).
    // A refusal is an AuthError (a RuleError): the HTTP filter answers it.
    request[PRINCIPAL] ??= await this.verifier.verify(bearerToken(request.headers.authorization));
    return true;
  }
}

/** The principal the AccessTokenGuard verified for this request (a programming error without it). */
export function principalOf(request: object): Principal {
  const principal = (request as { [PRINCIPAL]?: Principal })[PRINCIPAL];
  if (!principal)
    throw new Error(
      'the route needs @RequirePermission(...) or @UseGuards(AccessTokenGuard) to know its caller',
    );
  return principal;
}

/** The principal the AccessTokenGuard verified for this request. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext) =>
  principalOf(context.switchToHttp().getRequest<object>()),
);

/** What a service gives the auth providers, from its own injected dependencies. */
export interface AuthDependencies {
  /** The service's NATS connection (called at bootstrap, after the service runtime connected). */
  nc: () => NatsConnection;
  /** Where the JWKS comes from (default: identity over NATS request/reply). */
  jwks?: JwksFetcher;
  /** How API tokens are resolved (default: asking identity over NATS). */
  apiTokens?: ApiTokenResolver;
}

export interface AuthProvidersOptions {
  /** What to inject for `resolve`, e.g. [ServiceRuntime]. */
  inject: unknown[];
  resolve: (...dependencies: never[]) => AuthDependencies;
  demoTokens?: DemoTokens;
  issuer?: string;
  audience?: string;
}

/** Starts the revocation feed after every module is initialized, stops it at shutdown. */
class AuthLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  feed?: RevocationFeed;
  constructor(
    private readonly nc: () => NatsConnection,
    private readonly revocations: RevocationList,
    private readonly keys: JwksKeyStore,
    private readonly markReady: (ready: Promise<void>) => void,
  ) {}
  onApplicationBootstrap(): void {
    this.feed = followRevocations(this.nc(), this.revocations, {
      onKeyRotated: () => void this.keys.refresh().catch(() => undefined),
    });
    this.markReady(this.feed.ready);
  }
  async onApplicationShutdown(): Promise<void> {
    await this.feed?.stop();
  }
}

/**
 * The providers a service module adds to verify credentials: the verifier (JWKS over NATS,
 * revocations from identity's events) and the guard. Put them in the service module that also
 * imports ServiceRuntimeModule, so the verifier uses that service's NATS connection:
 *
 *     providers: [...accessTokenProviders({ inject: [ServiceRuntime], resolve: (r: ServiceRuntime) => ({ nc: () => r.nc }) })]
 */
export function accessTokenProviders(options: AuthProvidersOptions): Provider[] {
  const LIFECYCLE = Symbol('palisade.auth.lifecycle');
  const STATE = Symbol('palisade.auth.state');
  return [
    {
      provide: STATE,
      inject: [CLOCK, ...(options.inject as never[])],
      useFactory: (clock: Clock, ...dependencies: never[]) => {
        const resolved = options.resolve(...dependencies);
        const now = () => clock.now();
        let markReady: (ready: Promise<void>) => void = () => undefined;
        const ready = new Promise<void>((resolve) => (markReady = (inner) => void inner.then(resolve)));
        const revocations = new RevocationList(now);
        const keys = new JwksKeyStore(resolved.jwks ?? (() => natsJwksFetcher(resolved.nc())()), { now });
        const verifier = new AccessTokenVerifier({
          keys,
          revocations,
          ready,
          demoTokens: options.demoTokens,
          issuer: options.issuer,
          audience: options.audience,
          apiTokens: resolved.apiTokens ?? natsApiTokenResolver(resolved.nc, undefined, clock),
          now,
        });
        return {
          verifier,
          revocations,
          lifecycle: new AuthLifecycle(resolved.nc, revocations, keys, markReady),
        };
      },
    },
    {
      provide: ACCESS_TOKEN_VERIFIER,
      inject: [STATE],
      useFactory: (state: { verifier: AccessTokenVerifier }) => state.verifier,
    },
    {
      provide: ACCESS_TOKEN_REVOCATIONS,
      inject: [STATE],
      useFactory: (state: { revocations: RevocationList }) => state.revocations,
    },
    {
      provide: LIFECYCLE,
      inject: [STATE],
      useFactory: (state: { lifecycle: AuthLifecycle }) => state.lifecycle,
    },
    AccessTokenGuard,
  ];
}
