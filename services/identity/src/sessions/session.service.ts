import { Inject, Injectable } from '@nestjs/common';
import { ACCESS_TOKEN_REVOCATIONS, RevocationList, tokenHash } from '@palisade/auth';
import { IDENTITY_STREAMS, SYSTEM_ORG } from '@palisade/contracts';
import { executeCommand, StoredEvent } from '@palisade/persistence';
import type { Clock } from '@palisade/domain';
import { apiError, CLOCK, ServiceRuntime } from '@palisade/runtime';
import {
  LoginMethod,
  RevokeReason,
  SessionCommand,
  sessionDecider,
  SessionEvent,
} from '../domain/session.decider';
import { IdentityDatabase } from '../identity.database';
import { opaqueToken, randomId, TokenIssuer } from '../tokens/token.issuer';

/** Prefix of refresh tokens (opaque; identity keeps only their SHA-256). */
export const REFRESH_TOKEN_PREFIX = 'pal_rt_';

/** What a sign-in or a refresh returns to the client. The only place tokens appear. */
export interface TokenPair {
  tokenType: 'Bearer';
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  sessionId: string;
}

/** Sessions: start at sign-in, refresh with rotation and reuse detection, revoke. */
@Injectable()
export class SessionService {
  constructor(
    private readonly runtime: ServiceRuntime,
    private readonly tokens: TokenIssuer,
    @Inject(ACCESS_TOKEN_REVOCATIONS) private readonly revocations: RevocationList,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  private get db(): IdentityDatabase {
    return this.runtime.db as IdentityDatabase;
  }

  async start(userId: string, method: LoginMethod): Promise<TokenPair> {
    const sessionId = randomId();
    const refreshToken = opaqueToken(REFRESH_TOKEN_PREFIX);
    await this.execute(
      sessionId,
      `user:${userId}`,
      { type: 'start', sessionId, userId, method, now: this.clock.now() },
      refreshToken,
    );
    return this.pair(userId, sessionId, refreshToken);
  }

  /** Spends a refresh token for a new pair; a spent one revokes its whole family (401 refresh_token_reused). */
  async refresh(refreshToken: string): Promise<TokenPair> {
    const row = await this.db
      .selectFrom('refresh_tokens')
      .select(['session_id', 'generation'])
      .where('token_hash', '=', tokenHash(refreshToken))
      .executeTakeFirst();
    if (!row)
      throw apiError(
        401,
        'refresh_token_invalid',
        'The refresh token is unknown, spent, expired or revoked; sign in again.',
      );
    const next = opaqueToken(REFRESH_TOKEN_PREFIX);
    const { events, state } = await this.execute(
      row.session_id,
      'system',
      { type: 'refresh', presentedGeneration: row.generation, now: this.clock.now() },
      next,
    );
    if (events.some((stored) => stored.event.type === 'refresh_token.reuse_detected')) {
      throw apiError(
        401,
        'refresh_token_reused',
        'This refresh token was already used, so it may have been copied: the session is revoked. Sign in again.',
      );
    }
    return this.pair(state.userId!, row.session_id, next);
  }

  async revoke(
    sessionId: string,
    reason: Exclude<RevokeReason, 'refresh_token_reuse'>,
    actor: string,
  ): Promise<boolean> {
    const { events } = await this.execute(sessionId, actor, { type: 'revoke', reason });
    return events.length > 0;
  }

  /** The owner of a session (undefined when there is none). */
  async ownerOf(sessionId: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('sessions')
      .select('user_id')
      .where('session_id', '=', sessionId)
      .executeTakeFirst();
    return row?.user_id;
  }

  private async pair(userId: string, sessionId: string, refreshToken: string): Promise<TokenPair> {
    const access = await this.tokens.accessToken(userId, sessionId);
    return {
      tokenType: 'Bearer',
      accessToken: access.token,
      expiresIn: access.expiresIn,
      refreshToken,
      sessionId,
    };
  }

  /**
   * Decides and appends; projects sessions and refresh-token hashes in the same transaction. A
   * revocation also reaches identity's own guard at once (other services learn it from the event).
   */
  private async execute(sessionId: string, actor: string, command: SessionCommand, newRefreshToken?: string) {
    const result = await executeCommand(this.runtime.db, this.runtime.store, {
      streamId: IDENTITY_STREAMS.session(sessionId),
      decider: sessionDecider,
      command,
      metadata: { orgId: SYSTEM_ORG, actor },
      // Two uses of one refresh token race: the loser re-decides on fresh state and sees a reuse.
      conflictRetries: 1,
      project: (trx, events) => this.project(trx as IdentityDatabase, events, newRefreshToken),
    });
    if (result.events.some((stored) => stored.event.type === 'session.revoked'))
      this.revocations.revokeSession(sessionId);
    return result;
  }

  private async project(
    trx: IdentityDatabase,
    events: StoredEvent<SessionEvent>[],
    newRefreshToken: string | undefined,
  ): Promise<void> {
    for (const { event, envelope } of events) {
      switch (event.type) {
        case 'session.started':
          await trx
            .insertInto('sessions')
            .values({
              session_id: event.data.sessionId,
              user_id: event.data.userId,
              method: event.data.method,
              generation: 0,
              expires_at: event.data.expiresAt,
              revoked_at: null,
              revoke_reason: null,
              started_at: envelope.time,
            })
            .execute();
          await this.storeRefreshToken(trx, event.data.sessionId, 0, event.data.expiresAt, newRefreshToken);
          break;
        case 'session.refreshed':
          await trx
            .updateTable('sessions')
            .set({ generation: event.data.generation, expires_at: event.data.expiresAt })
            .where('session_id', '=', event.data.sessionId)
            .execute();
          await this.storeRefreshToken(
            trx,
            event.data.sessionId,
            event.data.generation,
            event.data.expiresAt,
            newRefreshToken,
          );
          break;
        case 'session.revoked':
          await trx
            .updateTable('sessions')
            .set({ revoked_at: envelope.time, revoke_reason: event.data.reason })
            .where('session_id', '=', event.data.sessionId)
            .execute();
          break;
        case 'refresh_token.reuse_detected':
          break;
        default: {
          const never: never = event;
          return never;
        }
      }
    }
  }

  private async storeRefreshToken(
    trx: IdentityDatabase,
    sessionId: string,
    generation: number,
    expiresAt: string,
    token: string | undefined,
  ): Promise<void> {
    if (!token) throw new Error('a new refresh token is needed to start or refresh a session');
    await trx
      .insertInto('refresh_tokens')
      .values({ token_hash: tokenHash(token), session_id: sessionId, generation, expires_at: expiresAt })
      .execute();
  }
}
