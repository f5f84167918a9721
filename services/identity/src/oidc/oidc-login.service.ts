import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Clock } from '@palisade/domain';
import { apiError, CLOCK, SERVICE_CONFIG, ServiceRuntime } from '@palisade/runtime';
import * as oidc from 'openid-client';
import { LoginAttempts } from '../abuse/login-attempts';
import type { IdentityConfig } from '../identity.config';
import { IdentityDatabase } from '../identity.database';
import { SessionService, TokenPair } from '../sessions/session.service';
import { UserDirectory } from '../sessions/user.directory';

/** How long a login may take between the redirect to the provider and the callback. */
export const LOGIN_STATE_TTL_SECONDS = 10 * 60;
/** The cookie that binds a login in flight to the browser that started it (login CSRF). */
export const LOGIN_BINDING_COOKIE = 'palisade_oidc_login';

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/** How long the CLI has to exchange its one-time handoff code. */
export const HANDOFF_TTL_SECONDS = 60;

/** A sign-in started for `palisade login --oidc`: where the CLI listens and the hash of its verifier. */
export interface CliHandoff {
  port: number;
  challenge: string;
}

/** The callback's outcome: tokens for a browser, or a redirect to the waiting CLI. */
export type CallbackOutcome = { kind: 'tokens'; pair: TokenPair } | { kind: 'cli'; redirectTo: string };

export interface StartedLogin {
  authorizationUrl: string;
  /** The value of the LOGIN_BINDING_COOKIE to set on the browser. */
  binding: string;
}

/**
 * OIDC sign-in with openid-client: authorization code + PKCE (S256) + state + nonce. The state
 * is stored as a hash with its nonce and PKCE verifier and consumed exactly once (a replay fails,
 * after a restart too); the id_token is verified (signature, issuer, audience, expiry, nonce).
 * Any OIDC provider (Auth0, Keycloak, Okta, Dex, ...) works by configuration alone.
 */
@Injectable()
export class OidcLoginService {
  private configuration?: Promise<oidc.Configuration>;

  constructor(
    private readonly runtime: ServiceRuntime,
    private readonly sessions: SessionService,
    private readonly users: UserDirectory,
    private readonly attempts: LoginAttempts,
    @Inject(SERVICE_CONFIG) private readonly config: IdentityConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  private get db(): IdentityDatabase {
    return this.runtime.db as IdentityDatabase;
  }

  private settings() {
    const {
      PALISADE_OIDC_ISSUER: issuer,
      PALISADE_OIDC_CLIENT_ID: clientId,
      PALISADE_OIDC_REDIRECT_URI: redirectUri,
    } = this.config;
    if (!issuer || !clientId || !redirectUri)
      throw apiError(
        404,
        'oidc_not_configured',
        'OIDC sign-in is not configured here (PALISADE_OIDC_ISSUER, PALISADE_OIDC_CLIENT_ID, PALISADE_OIDC_REDIRECT_URI).',
      );
    return { issuer, clientId, redirectUri };
  }

  /** Discovery, once (retried on the next login after a failure). */
  private async discover(): Promise<oidc.Configuration> {
    const { issuer, clientId } = this.settings();
    this.configuration ??= (async () => {
      const secret = this.config.PALISADE_OIDC_CLIENT_SECRET;
      const url = new URL(issuer);
      const configuration = await oidc.discovery(
        url,
        clientId,
        undefined,
        secret ? oidc.ClientSecretBasic(secret) : oidc.None(),
        // Plain http only for a provider on this machine (the config refuses it elsewhere and in production).
        url.protocol === 'http:' ? { execute: [oidc.allowInsecureRequests], timeout: 5 } : { timeout: 5 },
      );
      // Verify the id_token signature even though it came straight from the token endpoint.
      oidc.enableNonRepudiationChecks(configuration);
      return configuration;
    })();
    try {
      return await this.configuration;
    } catch {
      this.configuration = undefined;
      throw apiError(
        503,
        'oidc_provider_unavailable',
        'The OIDC provider cannot be reached or its discovery document is invalid; try again later.',
      );
    }
  }

  async start(loginHint?: string, cli?: CliHandoff): Promise<StartedLogin> {
    const { redirectUri } = this.settings();
    const configuration = await this.discover();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const binding = randomBytes(32).toString('base64url');
    await this.db
      .insertInto('login_states')
      .values({
        state_hash: sha256(state),
        nonce,
        code_verifier: codeVerifier,
        binding_hash: sha256(binding),
        expires_at: new Date(this.clock.now() + LOGIN_STATE_TTL_SECONDS * 1000),
        consumed_at: null,
        cli_port: cli?.port ?? null,
        cli_challenge: cli?.challenge ?? null,
      })
      .execute();
    const url = oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: redirectUri,
      scope: this.config.PALISADE_OIDC_SCOPES,
      response_type: 'code',
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...(loginHint ? { login_hint: loginHint } : {}),
    });
    return { authorizationUrl: url.href, binding };
  }

  /** The provider sent the browser back: consume the state once, exchange the code, verify the id_token. */
  async callback(query: URLSearchParams, binding: string | undefined): Promise<CallbackOutcome> {
    const { redirectUri, issuer } = this.settings();
    const state = query.get('state');
    if (!state || state.length > 512)
      throw apiError(400, 'login_state_missing', 'The callback has no state; start the sign-in again.');
    const consumed = await this.db
      .updateTable('login_states')
      .set({ consumed_at: new Date(this.clock.now()) })
      .where('state_hash', '=', sha256(state))
      .where('consumed_at', 'is', null)
      .returning(['nonce', 'code_verifier', 'binding_hash', 'expires_at', 'cli_port', 'cli_challenge'])
      .executeTakeFirst();
    if (!consumed) {
      const known = await this.db
        .selectFrom('login_states')
        .select('state_hash')
        .where('state_hash', '=', sha256(state))
        .executeTakeFirst();
      await this.attempts.recordFailure('oidc', known ? 'state_reused' : 'state_unknown');
      throw known
        ? apiError(400, 'login_state_reused', 'This sign-in was already completed; start a new one.')
        : apiError(
            400,
            'login_state_unknown',
            'This sign-in was not started here or has been cleaned up; start again.',
          );
    }
    if (new Date(consumed.expires_at).getTime() <= this.clock.now()) {
      await this.attempts.recordFailure('oidc', 'state_expired');
      throw apiError(400, 'login_state_expired', 'The sign-in took too long; start again.');
    }
    if (!binding || sha256(binding) !== consumed.binding_hash) {
      await this.attempts.recordFailure('oidc', 'state_unknown');
      throw apiError(
        400,
        'login_state_mismatch',
        'This sign-in was started in another browser (or its cookie is missing); start again here.',
      );
    }
    if (query.has('error')) {
      await this.attempts.recordFailure('oidc', 'provider_error');
      throw apiError(401, 'oidc_login_refused', 'The OIDC provider did not sign you in.');
    }
    const configuration = await this.discover();
    const currentUrl = new URL(redirectUri);
    currentUrl.search = query.toString();
    let claims: oidc.IDToken | undefined;
    try {
      const tokens = await oidc.authorizationCodeGrant(configuration, currentUrl, {
        pkceCodeVerifier: consumed.code_verifier,
        expectedState: state,
        expectedNonce: consumed.nonce,
        idTokenExpected: true,
      });
      claims = tokens.claims();
    } catch (error) {
      if (isUnreachable(error))
        throw apiError(
          503,
          'oidc_provider_unavailable',
          'The OIDC provider cannot be reached; try again later.',
        );
      await this.attempts.recordFailure('oidc', 'id_token_invalid');
      throw apiError(
        401,
        'oidc_login_invalid',
        'The OIDC provider’s answer did not verify; sign-in refused.',
      );
    }
    if (!claims || typeof claims.sub !== 'string' || claims.sub.length === 0 || claims.sub.length > 255) {
      await this.attempts.recordFailure('oidc', 'id_token_invalid');
      throw apiError(
        401,
        'oidc_login_invalid',
        'The OIDC provider’s answer did not verify; sign-in refused.',
      );
    }
    const { userId } = await this.users.findOrRegister({
      issuer,
      subject: claims.sub,
      displayName: typeof claims.name === 'string' ? claims.name : undefined,
      method: 'oidc',
    });
    if (consumed.cli_port !== null && consumed.cli_challenge !== null) {
      // The CLI gets a one-time code on its loopback address; the tokens go only to whoever holds its verifier.
      const code = randomBytes(32).toString('base64url');
      await this.db
        .insertInto('login_handoffs')
        .values({
          code_hash: sha256(code),
          user_id: userId,
          cli_challenge: consumed.cli_challenge,
          expires_at: new Date(this.clock.now() + HANDOFF_TTL_SECONDS * 1000),
          consumed_at: null,
        })
        .execute();
      return { kind: 'cli', redirectTo: `http://127.0.0.1:${consumed.cli_port}/callback?code=${code}` };
    }
    return { kind: 'tokens', pair: await this.sessions.start(userId, 'oidc') };
  }

  /** The CLI exchanges its one-time code and the verifier behind its challenge for a session. */
  async exchangeHandoff(code: string, verifier: string): Promise<TokenPair> {
    const consumed = await this.db
      .updateTable('login_handoffs')
      .set({ consumed_at: new Date(this.clock.now()) })
      .where('code_hash', '=', sha256(code))
      .where('consumed_at', 'is', null)
      .where('expires_at', '>', new Date(this.clock.now()))
      .returning(['user_id', 'cli_challenge'])
      .executeTakeFirst();
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    if (!consumed || consumed.cli_challenge !== challenge)
      throw apiError(
        400,
        'handoff_invalid',
        'This sign-in code is unknown, used, expired or not yours; run palisade login again.',
      );
    return this.sessions.start(consumed.user_id, 'oidc');
  }
}

function isUnreachable(error: unknown): boolean {
  const cause = (error as { cause?: { code?: string } })?.cause;
  return (
    error instanceof TypeError ||
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT'].includes(cause?.code ?? '')
  );
}
