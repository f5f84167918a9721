import type { AuthzSubject } from '@palisade/contracts';
import type { DemoTokenRole } from '@palisade/config';

/** Who a request comes from, as proven by its credential. It grants nothing by itself. */
export type Principal = UserPrincipal | ApiTokenPrincipal | DemoPrincipal;

/** A person signed in through identity (an access JWT). */
export interface UserPrincipal {
  kind: 'user';
  userId: string;
  sessionId: string;
  /** The access token's `jti`. */
  tokenId: string;
  /** Seconds since the epoch. */
  expiresAt: number;
}

/** A tool or integrator using an API token of one organization. */
export interface ApiTokenPrincipal {
  kind: 'api_token';
  tokenId: string;
  userId: string;
  orgId: string;
  scope: 'read' | 'write';
  expiresAt: number;
}

/** A static demo token (PALISADE_MODE=demo only). */
export interface DemoPrincipal {
  kind: 'demo';
  role: DemoTokenRole;
}

/** The `actor` of events a principal causes. */
export function actorOf(principal: Principal): string {
  switch (principal.kind) {
    case 'user':
      return `user:${principal.userId}`;
    case 'api_token':
      return `token:${principal.tokenId}`;
    case 'demo':
      return `demo:${principal.role}`;
    default: {
      const never: never = principal;
      return never;
    }
  }
}

/**
 * The principal as authorization's subject. A demo token acts as the user `demo:<role>`,
 * which has only the memberships it was given like anyone else.
 */
export function authzSubjectOf(principal: Principal): AuthzSubject {
  switch (principal.kind) {
    case 'user':
      return { kind: 'user', userId: principal.userId };
    case 'api_token':
      return { kind: 'api_token', userId: principal.userId, orgId: principal.orgId, access: principal.scope };
    case 'demo':
      return { kind: 'user', userId: `demo:${principal.role}` };
    default: {
      const never: never = principal;
      return never;
    }
  }
}
