import type { Request } from 'express';

/**
 * Who may read the audit log (the default is AuthzAuditReadAuthorizer: authorization decides). The query API asks this for
 * every request; the answer scopes everything to one organization.
 */
export interface AuditReader {
  /** The organization the caller acts in; they see its entries only. */
  orgId: string;
  /** Who is reading (for logs). */
  actor: string;
}

export interface AuditReadAuthorizer {
  /**
   * Authenticates the caller and checks the `audit.read` permission in their organization.
   * Resolves with the reader, or throws an apiError (401 unauthenticated, 403 forbidden).
   */
  authorize(request: Request): Promise<AuditReader>;
}

export const AUDIT_READ_AUTHORIZER = Symbol.for('palisade.audit.read-authorizer');
