import { MAX_ACCESS_TOKEN_TTL_SECONDS } from '@palisade/contracts';

/** How long a revocation is remembered: past the last access token it could concern, with clock skew. */
export const REVOCATION_MEMORY_MS = (MAX_ACCESS_TOKEN_TTL_SECONDS + 5 * 60) * 1000;

/**
 * Revoked sessions and API tokens, as learned from identity's events. A session revocation
 * only needs remembering as long as access tokens issued before it can live; after that its
 * tokens have expired anyway, and identity refuses to refresh it.
 */
export class RevocationList {
  private readonly sessions = new Map<string, number>();
  private readonly apiTokens = new Set<string>();
  private lastPrune = 0;

  constructor(private readonly now: () => number = Date.now) {}

  revokeSession(sessionId: string, at: number = this.now()): void {
    this.sessions.set(sessionId, at);
    this.prune();
  }

  revokeApiToken(tokenId: string): void {
    this.apiTokens.add(tokenId);
  }

  isSessionRevoked(sessionId: string): boolean {
    return this.sessions.has(sessionId);
  }

  isApiTokenRevoked(tokenId: string): boolean {
    return this.apiTokens.has(tokenId);
  }

  get size(): number {
    return this.sessions.size + this.apiTokens.size;
  }

  private prune(): void {
    const now = this.now();
    if (now - this.lastPrune < 60_000) return;
    this.lastPrune = now;
    for (const [sessionId, at] of this.sessions)
      if (now - at > REVOCATION_MEMORY_MS) this.sessions.delete(sessionId);
  }
}
