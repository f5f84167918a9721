import { Migration, sql } from 'kysely';

/** Signing keys, users, sessions with their refresh-token families, OIDC login states, API tokens, bootstrap credential, failed-login counters. */
export const identityTables: Migration = {
  async up(db) {
    // private_pkcs8: the signing key's private half. It never leaves this table (not in events, logs or the JWKS).
    await sql`
      create table signing_keys (
        kid text primary key,
        public_jwk jsonb not null,
        private_pkcs8 text not null,
        created_at timestamptz not null,
        retired_at timestamptz,
        expires_at timestamptz
      )`.execute(db);
    await sql`create unique index signing_keys_one_active on signing_keys ((true)) where retired_at is null`.execute(
      db,
    );
    await sql`
      create table users (
        user_id text primary key,
        issuer text not null,
        subject text not null,
        display_name text,
        is_admin boolean not null default false,
        created_at timestamptz not null default now(),
        constraint users_issuer_subject unique (issuer, subject)
      )`.execute(db);
    await sql`
      create table sessions (
        session_id text primary key,
        user_id text not null,
        method text not null,
        generation integer not null,
        expires_at timestamptz not null,
        revoked_at timestamptz,
        revoke_reason text,
        started_at timestamptz not null
      )`.execute(db);
    await sql`create index sessions_user on sessions (user_id)`.execute(db);
    // Refresh tokens are kept only as SHA-256 hashes; a spent one stays so that its reuse is recognized.
    await sql`
      create table refresh_tokens (
        token_hash text primary key,
        session_id text not null,
        generation integer not null,
        expires_at timestamptz not null,
        constraint refresh_tokens_generation unique (session_id, generation)
      )`.execute(db);
    // OIDC logins in flight: the state is kept as a hash and consumed once (a replay fails after a restart too).
    await sql`
      create table login_states (
        state_hash text primary key,
        nonce text not null,
        code_verifier text not null,
        binding_hash text not null,
        expires_at timestamptz not null,
        consumed_at timestamptz
      )`.execute(db);
    await sql`
      create table api_tokens (
        token_id text primary key,
        token_hash text not null unique,
        user_id text not null,
        org_id text not null,
        name text not null,
        scope text not null check (scope in ('read', 'write')),
        expires_at timestamptz not null,
        revoked_at timestamptz,
        created_at timestamptz not null
      )`.execute(db);
    await sql`create index api_tokens_user on api_tokens (user_id)`.execute(db);
    await sql`
      create table bootstrap_credentials (
        user_id text primary key,
        username text not null unique,
        password_hash text not null,
        created_at timestamptz not null default now()
      )`.execute(db);
    await sql`
      create table login_attempts (
        account text primary key,
        failures integer not null,
        locked_until timestamptz,
        last_failure_at timestamptz not null
      )`.execute(db);
  },
};
