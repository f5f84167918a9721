import { MigrationSet } from '@palisade/persistence';
import { sql } from 'kysely';

/** Invitation tokens, by hash only (the token is shown once to whoever invites). */
export const invitationTokens: MigrationSet = {
  '202611250600_invitation_tokens': {
    async up(db) {
      await sql`create table invitation_tokens (
        invitation_id uuid primary key,
        org_id text not null,
        token_hash bytea not null
      )`.execute(db);
    },
  },
};
