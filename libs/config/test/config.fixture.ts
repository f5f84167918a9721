import { Environment } from '../src/load-config';

/** Random-looking secrets that pass every production rule (never used outside tests). */
export const STRONG = {
  dbPassword: 'Xr7pQ2mVz9Lk4NwT8bYc3HdJ6sFg1AeU',
  natsPassword: 'n8W2qZ5vR1xK7mP4tL9cB3yH6dJ0sFgA',
  jwtSecret: 'Jw7Kc2Pq9Xz4Lm8Rt3Vb6Nh1Ys5Dg0Fa',
} as const;

/** A complete production environment that loads without problems. */
export function productionEnv(overrides: Environment = {}): Environment {
  return {
    PALISADE_MODE: 'production',
    DATABASE_URL: `postgres://palisade:${STRONG.dbPassword}@db.internal:5432/palisade`,
    NATS_URL: 'tls://nats-0.internal:4222,tls://nats-1.internal:4222',
    NATS_USER: 'palisade',
    NATS_PASSWORD: STRONG.natsPassword,
    PALISADE_OIDC_ISSUER: 'https://login.example.com/realms/palisade',
    ...overrides,
  };
}

/** The smallest dev environment that loads. */
export function devEnv(overrides: Environment = {}): Environment {
  return { DATABASE_URL: 'postgres://palisade:palisade@127.0.0.1:5432/palisade', ...overrides };
}
