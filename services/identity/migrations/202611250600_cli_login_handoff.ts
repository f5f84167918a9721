import { Migration, sql } from 'kysely';

/**
 * `palisade login --oidc`: a sign-in started for the CLI remembers the CLI's loopback port and
 * the hash of a verifier only the CLI holds; the callback hands the CLI a one-time code, which
 * the CLI exchanges with that verifier for a session.
 */
export const cliLoginHandoff: Migration = {
  async up(db) {
    await sql`alter table login_states add column cli_port integer, add column cli_challenge text`.execute(
      db,
    );
    await sql`
      create table login_handoffs (
        code_hash text primary key,
        user_id text not null,
        cli_challenge text not null,
        expires_at timestamptz not null,
        consumed_at timestamptz
      )`.execute(db);
  },
};
