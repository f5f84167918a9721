import { Inject, Injectable } from '@nestjs/common';
import { ACCESS_TOKEN_REVOCATIONS, API_TOKEN_PREFIX, RevocationList, tokenHash } from '@palisade/auth';
import type { ApiTokenPrincipal } from '@palisade/auth';
import { IDENTITY_STREAMS } from '@palisade/contracts';
import { executeCommand } from '@palisade/persistence';
import type { Clock } from '@palisade/domain';
import { CLOCK, ServiceRuntime } from '@palisade/runtime';
import { ApiTokenCommand, apiTokenDecider } from '../domain/api-token.decider';
import { IdentityDatabase } from '../identity.database';
import { opaqueToken, randomId } from '../tokens/token.issuer';

export interface ApiTokenView {
  id: string;
  name: string;
  orgId: string;
  scope: 'read' | 'write';
  expiresAt: string;
  createdAt: string;
  revokedAt: string | null;
}

/** API tokens: shown once, stored only as a SHA-256 hash, scoped to one organization, expiring, revocable. */
@Injectable()
export class ApiTokenService {
  constructor(
    private readonly runtime: ServiceRuntime,
    @Inject(ACCESS_TOKEN_REVOCATIONS) private readonly revocations: RevocationList,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  private get db(): IdentityDatabase {
    return this.runtime.db as IdentityDatabase;
  }

  async issue(
    userId: string,
    input: { name: string; orgId: string; scope: 'read' | 'write'; expiresInDays: number },
  ): Promise<ApiTokenView & { token: string }> {
    const tokenId = randomId();
    const token = opaqueToken(API_TOKEN_PREFIX);
    const expiresAt = new Date(this.clock.now() + input.expiresInDays * 86_400_000).toISOString();
    const { events } = await this.execute(
      tokenId,
      input.orgId,
      `user:${userId}`,
      {
        type: 'issue',
        tokenId,
        userId,
        name: input.name,
        scope: input.scope,
        expiresAt,
      },
      async (trx) => {
        await trx
          .insertInto('api_tokens')
          .values({
            token_id: tokenId,
            token_hash: tokenHash(token),
            user_id: userId,
            org_id: input.orgId,
            name: input.name,
            scope: input.scope,
            expires_at: expiresAt,
            revoked_at: null,
            created_at: new Date(this.clock.now()),
          })
          .execute();
      },
    );
    const createdAt = events[0].envelope.time;
    return {
      id: tokenId,
      token,
      name: input.name,
      orgId: input.orgId,
      scope: input.scope,
      expiresAt,
      createdAt,
      revokedAt: null,
    };
  }

  async list(userId: string): Promise<ApiTokenView[]> {
    const rows = await this.db
      .selectFrom('api_tokens')
      .select(['token_id', 'name', 'org_id', 'scope', 'expires_at', 'created_at', 'revoked_at'])
      .where('user_id', '=', userId)
      .orderBy('created_at', 'desc')
      .limit(500)
      .execute();
    return rows.map((row) => ({
      id: row.token_id,
      name: row.name,
      orgId: row.org_id,
      scope: row.scope,
      expiresAt: new Date(row.expires_at).toISOString(),
      createdAt: new Date(row.created_at).toISOString(),
      revokedAt: row.revoked_at ? new Date(row.revoked_at).toISOString() : null,
    }));
  }

  /** The owner and organization of a token (undefined when there is none). */
  async find(tokenId: string): Promise<{ userId: string; orgId: string } | undefined> {
    const row = await this.db
      .selectFrom('api_tokens')
      .select(['user_id', 'org_id'])
      .where('token_id', '=', tokenId)
      .executeTakeFirst();
    return row ? { userId: row.user_id, orgId: row.org_id } : undefined;
  }

  async revoke(tokenId: string, orgId: string, userId: string): Promise<void> {
    await this.execute(tokenId, orgId, `user:${userId}`, { type: 'revoke', userId }, async (trx) => {
      await trx
        .updateTable('api_tokens')
        .set({ revoked_at: new Date(this.clock.now()) })
        .where('token_id', '=', tokenId)
        .execute();
    });
  }

  /** The principal of a valid token, by its hash (see resolveApiToken). */
  resolve(hash: string): Promise<ApiTokenPrincipal | undefined> {
    return resolveApiToken(this.db, hash, this.clock.now());
  }

  private execute(
    tokenId: string,
    orgId: string,
    actor: string,
    command: ApiTokenCommand,
    project: (trx: IdentityDatabase) => Promise<void>,
  ) {
    return executeCommand(this.runtime.db, this.runtime.store, {
      streamId: IDENTITY_STREAMS.apiToken(tokenId),
      decider: apiTokenDecider,
      command,
      metadata: { orgId, actor },
      project: async (trx, events) => {
        if (events.length) await project(trx as IdentityDatabase);
      },
    });
  }
}

/** The principal of a valid (known, unexpired, unrevoked) API token, by its hash. */
export async function resolveApiToken(
  db: IdentityDatabase,
  hash: string,
  now: number,
): Promise<ApiTokenPrincipal | undefined> {
  if (!/^[0-9a-f]{64}$/.test(hash)) return undefined;
  const row = await db
    .selectFrom('api_tokens')
    .select(['token_id', 'user_id', 'org_id', 'scope', 'expires_at'])
    .where('token_hash', '=', hash)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', new Date(now))
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    kind: 'api_token',
    tokenId: row.token_id,
    userId: row.user_id,
    orgId: row.org_id,
    scope: row.scope,
    expiresAt: Math.floor(new Date(row.expires_at).getTime() / 1000),
  };
}
