import type { Request } from 'express';
import { apiError } from '@palisade/runtime';

/**
 * SEAM for the authorization issue: who may read the audit log. The query API asks this for
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

/**
 * The default until the authorization service provides the audit.read check: closed. Every read
 * of the query API is refused (the public proofs and checkpoints stay open).
 */
export class AuditReadNotWired implements AuditReadAuthorizer {
  async authorize(): Promise<AuditReader> {
    throw apiError(
      403,
      'audit_read_unavailable',
      'Reading the audit log needs the audit.read permission check, which this deployment does not provide yet.',
    );
  }
}
