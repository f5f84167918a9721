import { Body, Controller, Get, HttpCode, Inject, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { apiError, parseInput, SERVICE_CONFIG, validate } from '@palisade/runtime';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { AuthRateLimitGuard } from '../abuse/auth-rate-limit.guard';
import type { IdentityConfig } from '../identity.config';
import { LOGIN_BINDING_COOKIE, LOGIN_STATE_TTL_SECONDS, OidcLoginService } from '../oidc/oidc-login.service';
import { TokenPair } from '../sessions/session.service';

const loginHint = z.string().regex(/^[\x21-\x7e]{1,200}$/);
const cliStart = z
  .object({
    cli_port: z
      .string()
      .regex(/^\d{4,5}$/)
      .transform(Number)
      .pipe(z.int().min(1024).max(65535)),
    cli_challenge: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  })
  .strict();
const handoffBody = z
  .object({
    code: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
    verifier: z.string().regex(/^[A-Za-z0-9_-]{43,128}$/),
  })
  .strict();
const MAX_QUERY_LENGTH = 4096;

/** Reads one cookie from the Cookie header (no cookie-parser: this is the only cookie identity sets). */
function cookie(request: Request, name: string): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

/** Browser sign-in through the configured OIDC provider. */
@ApiTags('identity')
@Controller('v1/auth/oidc')
@UseGuards(AuthRateLimitGuard)
export class OidcController {
  constructor(
    private readonly logins: OidcLoginService,
    @Inject(SERVICE_CONFIG) private readonly config: IdentityConfig,
  ) {}

  private cookieOptions() {
    return {
      httpOnly: true,
      sameSite: 'lax' as const,
      secure: this.config.PALISADE_OIDC_REDIRECT_URI?.startsWith('https://') ?? true,
      path: '/v1/auth/oidc',
    };
  }

  @Get('login')
  @ApiOperation({ summary: 'Start an OIDC sign-in: redirects to the provider (code + PKCE + state + nonce)' })
  @ApiQuery({ name: 'login_hint', required: false })
  @ApiQuery({
    name: 'cli_port',
    required: false,
    description: 'palisade login --oidc: the CLI’s loopback port',
  })
  @ApiQuery({
    name: 'cli_challenge',
    required: false,
    description: 'base64url SHA-256 of the CLI’s verifier',
  })
  async login(@Query() query: Record<string, unknown>, @Res() response: Response): Promise<void> {
    const { login_hint: rawHint, ...rest } = query;
    const hint =
      rawHint === undefined
        ? undefined
        : parseInput(loginHint, rawHint, { in: 'query', name: 'login_hint', code: 'invalid_login_hint' });
    let cli: { port: number; challenge: string } | undefined;
    if (Object.keys(rest).length > 0) {
      // cli_port and cli_challenge come together.
      const parsed = parseInput(cliStart, rest, { in: 'query', code: 'invalid_cli_login' });
      cli = { port: parsed.cli_port, challenge: parsed.cli_challenge };
    }
    const started = await this.logins.start(hint, cli);
    response.cookie(LOGIN_BINDING_COOKIE, started.binding, {
      ...this.cookieOptions(),
      maxAge: LOGIN_STATE_TTL_SECONDS * 1000,
    });
    response.redirect(302, started.authorizationUrl);
  }

  @Get('callback')
  @ApiOperation({ summary: 'Where the provider sends the browser back; answers with Palisade tokens' })
  async callback(
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<TokenPair | undefined> {
    const search = request.originalUrl.split('?')[1] ?? '';
    if (search.length > MAX_QUERY_LENGTH)
      throw apiError(414, 'query_too_long', 'The callback query is too long.');
    const outcome = await this.logins.callback(
      new URLSearchParams(search),
      cookie(request, LOGIN_BINDING_COOKIE),
    );
    response.clearCookie(LOGIN_BINDING_COOKIE, this.cookieOptions());
    response.setHeader('Cache-Control', 'no-store');
    if (outcome.kind === 'cli') {
      response.redirect(302, outcome.redirectTo);
      return undefined;
    }
    return outcome.pair;
  }

  @Post('handoff')
  @HttpCode(200)
  @ApiOperation({
    summary: 'palisade login --oidc: exchange the one-time code and the CLI’s verifier for tokens',
  })
  handoff(
    @Body(validate(handoffBody, { code: 'invalid_handoff' })) { code, verifier }: z.infer<typeof handoffBody>,
  ): Promise<TokenPair> {
    return this.logins.exchangeHandoff(code, verifier);
  }
}
