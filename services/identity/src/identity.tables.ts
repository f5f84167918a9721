import { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

/** The identity service's projections (its event store tables come from libs/persistence). */
export interface IdentityTables {
  signing_keys: {
    kid: string;
    public_jwk: ColumnType<Record<string, unknown>, string, string>;
    private_pkcs8: string;
    created_at: Timestamp;
    /** When it stopped signing (null: the active key). */
    retired_at: Timestamp | null;
    /** When it leaves the JWKS: retired_at + the longest access token lifetime. */
    expires_at: Timestamp | null;
  };
  users: {
    user_id: string;
    issuer: string;
    subject: string;
    display_name: string | null;
    is_admin: boolean;
    created_at: Generated<Date>;
  };
  sessions: {
    session_id: string;
    user_id: string;
    method: string;
    generation: number;
    expires_at: Timestamp;
    revoked_at: Timestamp | null;
    revoke_reason: string | null;
    started_at: Timestamp;
  };
  refresh_tokens: {
    token_hash: string;
    session_id: string;
    generation: number;
    expires_at: Timestamp;
  };
  login_states: {
    state_hash: string;
    nonce: string;
    code_verifier: string;
    binding_hash: string;
    expires_at: Timestamp;
    consumed_at: Timestamp | null;
    /** Set when the sign-in was started by `palisade login --oidc`. */
    cli_port: number | null;
    /** SHA-256 (base64url) of the CLI's handoff verifier. */
    cli_challenge: string | null;
  };
  login_handoffs: {
    code_hash: string;
    user_id: string;
    cli_challenge: string;
    expires_at: Timestamp;
    consumed_at: Timestamp | null;
  };
  api_tokens: {
    token_id: string;
    token_hash: string;
    user_id: string;
    org_id: string;
    name: string;
    scope: 'read' | 'write';
    expires_at: Timestamp;
    revoked_at: Timestamp | null;
    created_at: Timestamp;
  };
  bootstrap_credentials: {
    user_id: string;
    username: string;
    password_hash: string;
    created_at: Generated<Date>;
  };
  login_attempts: {
    account: string;
    failures: number;
    locked_until: Timestamp | null;
    last_failure_at: Timestamp;
  };
}
