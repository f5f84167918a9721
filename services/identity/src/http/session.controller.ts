import { Body, Controller, Get, HttpCode, Inject, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AccessTokenGuard, actorOf, CurrentPrincipal } from '@palisade/auth';
import type { Principal } from '@palisade/auth';
import type { Clock } from '@palisade/domain';
import { apiError, CLOCK, validate } from '@palisade/runtime';
import { z } from 'zod';
import { AuthRateLimitGuard } from '../abuse/auth-rate-limit.guard';
import { LoginAttempts } from '../abuse/login-attempts';
import { BootstrapAdmin } from '../bootstrap/bootstrap-admin';
import { SessionService, TokenPair } from '../sessions/session.service';
import { UserDirectory } from '../sessions/user.directory';
import { idParam } from './id-param';

const bootstrapLoginBody = z
  .object({
    username: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
    password: z.string().min(1).max(256),
  })
  .strict();
const refreshBody = z.object({ refreshToken: z.string().regex(/^pal_rt_[A-Za-z0-9_-]{43}$/) }).strict();

/** Sign-in with the bootstrap credential, refresh, logout, whoami and session revocation. */
@ApiTags('identity')
@Controller('v1')
export class SessionController {
  constructor(
    private readonly sessions: SessionService,
    private readonly bootstrap: BootstrapAdmin,
    private readonly attempts: LoginAttempts,
    private readonly users: UserDirectory,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Post('auth/bootstrap/login')
  @HttpCode(200)
  @UseGuards(AuthRateLimitGuard)
  @ApiOperation({ summary: 'Sign in with the one-time bootstrap admin credential (installs without OIDC)' })
  @ApiBody({
    schema: { type: 'object', properties: { username: { type: 'string' }, password: { type: 'string' } } },
  })
  async bootstrapLogin(
    @Body(validate(bootstrapLoginBody, { code: 'invalid_login' }))
    { username, password }: z.infer<typeof bootstrapLoginBody>,
  ): Promise<TokenPair> {
    const account = `bootstrap:${username}`;
    const locked = await this.attempts.lockedUntil(account);
    if (locked) throw this.lockedOut(locked);
    const user = await this.bootstrap.check(username, password);
    if (!user) {
      const until = await this.attempts.recordFailure('bootstrap', 'bad_credentials', { key: account });
      if (until) throw this.lockedOut(until);
      throw apiError(401, 'invalid_credentials', 'The user name or password is wrong.');
    }
    await this.attempts.recordSuccess(account);
    return this.sessions.start(user.userId, 'bootstrap');
  }

  @Post('auth/refresh')
  @HttpCode(200)
  @UseGuards(AuthRateLimitGuard)
  @ApiOperation({ summary: 'Spend a refresh token for a new access token and the next refresh token' })
  @ApiBody({ schema: { type: 'object', properties: { refreshToken: { type: 'string' } } } })
  refresh(
    @Body(validate(refreshBody, { code: 'invalid_refresh' })) { refreshToken }: z.infer<typeof refreshBody>,
  ): Promise<TokenPair> {
    return this.sessions.refresh(refreshToken);
  }

  @Post('auth/logout')
  @HttpCode(204)
  @UseGuards(AccessTokenGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'End the session of this access token (every service refuses it from now on)' })
  async logout(@CurrentPrincipal() principal: Principal): Promise<void> {
    if (principal.kind !== 'user')
      throw apiError(400, 'not_a_session', 'Only a signed-in session can log out.');
    await this.sessions.revoke(principal.sessionId, 'logout', actorOf(principal));
  }

  @Get('auth/whoami')
  @UseGuards(AccessTokenGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Who this credential belongs to (identity only: it grants nothing)' })
  whoami(@CurrentPrincipal() principal: Principal) {
    return principal;
  }

  @Post('sessions/:sessionId/revoke')
  @HttpCode(204)
  @UseGuards(AccessTokenGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Revoke a session: your own, or anyone’s as the admin' })
  async revoke(
    @Param('sessionId', validate(idParam, { code: 'invalid_session_id' })) sessionId: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<void> {
    if (principal.kind !== 'user')
      throw apiError(403, 'forbidden', 'Only a signed-in person can revoke sessions.');
    const owner = await this.sessions.ownerOf(sessionId);
    const allowed = owner === principal.userId || (await this.users.isAdmin(principal.userId));
    // Someone else's session looks the same as a missing one.
    if (!owner || !allowed) throw apiError(404, 'session_not_found', 'There is no such session.');
    await this.sessions.revoke(
      sessionId,
      owner === principal.userId ? 'logout' : 'admin',
      actorOf(principal),
    );
  }

  private lockedOut(until: Date) {
    const seconds = Math.max(1, Math.ceil((until.getTime() - this.clock.now()) / 1000));
    return apiError(
      429,
      'account_locked',
      `Too many failed sign-ins: this account is locked for ${seconds} s.`,
    );
  }
}
