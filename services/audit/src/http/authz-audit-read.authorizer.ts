import {
  AccessTokenVerifier,
  actorOf,
  authzSubjectOf,
  AuthzClient,
  AuthzUnavailableError,
  bearerToken,
} from '@palisade/auth';
import { orgIdSchema } from '@palisade/contracts';
import { apiError } from '@palisade/runtime';
import type { Request } from 'express';
import type { NatsConnection } from 'nats';
import type { AuditReader, AuditReadAuthorizer } from './audit-read.authorizer';

/**
 * audit.read as authorization decides it: the caller's credential is verified (identity's
 * JWKS, revocations), then authorization is asked whether it may read the audit log of the
 * organization it names (`?org=`; an API token's own organization). Unavailable means no.
 */
export class AuthzAuditReadAuthorizer implements AuditReadAuthorizer {
  private client?: Promise<AuthzClient>;

  constructor(
    private readonly verifier: AccessTokenVerifier,
    private readonly nc: () => NatsConnection,
  ) {}

  async authorize(request: Request): Promise<AuditReader> {
    const principal = await this.verifier.verify(bearerToken(request.headers.authorization));
    const named = principal.kind === 'api_token' ? principal.orgId : request.query.org;
    const orgId = orgIdSchema.safeParse(named);
    if (!orgId.success) throw apiError(400, 'org_required', 'Name the organization to read: ?org=<orgId>.');
    let decision;
    try {
      decision = await (
        await this.authz()
      ).check({ subject: authzSubjectOf(principal), action: 'audit.read', resource: { orgId: orgId.data } });
    } catch (error) {
      if (error instanceof AuthzUnavailableError)
        throw apiError(503, 'authz_unavailable', 'Authorization did not answer; try again shortly.');
      throw error;
    }
    if (!decision.allowed)
      throw apiError(403, 'audit_read_denied', `Reading this audit log is not allowed (${decision.reason}).`);
    return { orgId: orgId.data, actor: actorOf(principal) };
  }

  async stop(): Promise<void> {
    await (await this.client)?.stop();
  }

  private authz(): Promise<AuthzClient> {
    this.client ??= (async () => {
      const client = new AuthzClient(this.nc());
      await client.start();
      return client;
    })();
    this.client.catch(() => (this.client = undefined));
    return this.client;
  }
}
