// A real OpenID Provider (the oidc-provider package) for integration tests, run as a child
// process by oidc-provider.ts. Interactions finish by themselves: the account is the
// authorization request's login_hint (default "alice"), and consent is granted.
/* global process, console */
import Provider from 'oidc-provider';

const { OIDC_ISSUER, OIDC_PORT, OIDC_JWKS, OIDC_CLIENTS, OIDC_COOKIE_KEY } = process.env;

const provider = new Provider(OIDC_ISSUER, {
  clients: JSON.parse(OIDC_CLIENTS),
  jwks: JSON.parse(OIDC_JWKS),
  cookies: { keys: [OIDC_COOKIE_KEY] },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  claims: { openid: ['sub'], profile: ['name'], email: ['email'] },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: (_ctx, accountId) => ({
    accountId,
    claims: () => ({ sub: accountId, name: `Test user ${accountId}`, email: `${accountId}@example.test` }),
  }),
});

provider.use(async (ctx, next) => {
  const match = /^\/interaction\/[^/]+$/.exec(ctx.path);
  if (!match) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  let result;
  if (details.prompt.name === 'login') {
    result = { login: { accountId: details.params.login_hint || 'alice' } };
  } else {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    const missing = details.prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    result = { consent: { grantId: await grant.save() } };
  }
  const redirectTo = await provider.interactionResult(ctx.req, ctx.res, result, {
    mergeWithLastSubmission: false,
  });
  ctx.status = 303;
  ctx.redirect(redirectTo);
});

const server = provider.listen(Number(OIDC_PORT), '127.0.0.1', () => console.log('oidc-provider ready'));
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
