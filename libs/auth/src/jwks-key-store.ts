import { ACCESS_TOKEN_ALGORITHM } from '@palisade/contracts';
import { importJWK, JWK } from 'jose';

/** Fetches identity's public JWKS (over NATS request/reply or HTTP). */
export type JwksFetcher = () => Promise<{ keys: unknown[] }>;

export interface JwksKeyStoreOptions {
  /** At most one refetch per this many ms, however many unknown kids arrive (default 10 s). */
  refetchCooldownMs?: number;
  /** Refetch the whole set when it is older than this (default 5 min). */
  maxAgeMs?: number;
  now?: () => number;
}

type VerifyKey = Awaited<ReturnType<typeof importJWK>>;

/**
 * The public keys access tokens are verified with, cached. A token whose `kid` is unknown
 * triggers a refetch (a rotation happened), but at most one per cooldown: a flood of tokens
 * with made-up kids costs identity one JWKS request per cooldown, not one per token.
 * Only Ed25519 signing keys are taken; anything else in the set is ignored.
 */
export class JwksKeyStore {
  private keys = new Map<string, VerifyKey>();
  private fetchedAt = -Infinity;
  private lastAttemptAt = -Infinity;
  private inflight?: Promise<void>;
  private fetches = 0;
  /** Bumped whenever a key disappears, so that verified-token caches drop what it signed. */
  private keyGeneration = 0;
  private readonly cooldownMs: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(
    private readonly fetcher: JwksFetcher,
    options: JwksKeyStoreOptions = {},
  ) {
    this.cooldownMs = options.refetchCooldownMs ?? 10_000;
    this.maxAgeMs = options.maxAgeMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
  }

  /** How many times the JWKS was fetched (tests and metrics). */
  get fetchCount(): number {
    return this.fetches;
  }

  get generation(): number {
    return this.keyGeneration;
  }

  /** The key for `kid`, fetching the set when it is stale or the kid is new (rate-limited). */
  async key(kid: string): Promise<VerifyKey | undefined> {
    const now = this.now();
    const stale = now - this.fetchedAt > this.maxAgeMs;
    const known = this.keys.get(kid);
    if (known && !stale) return known;
    if (now - this.lastAttemptAt >= this.cooldownMs || (stale && this.fetchedAt === -Infinity)) {
      await this.refresh().catch(() => undefined);
    } else if (this.inflight) {
      await this.inflight.catch(() => undefined);
    }
    return this.keys.get(kid) ?? known;
  }

  /** Whether the cache currently holds `kid` (no fetch). */
  has(kid: string): boolean {
    return this.keys.has(kid);
  }

  /** Fetches the set now (one request at a time). */
  refresh(): Promise<void> {
    this.inflight ??= (async () => {
      this.lastAttemptAt = this.now();
      this.fetches++;
      try {
        const set = await this.fetcher();
        const next = new Map<string, VerifyKey>();
        for (const candidate of Array.isArray(set?.keys) ? set.keys : []) {
          const jwk = candidate as JWK;
          if (!isEd25519SigningKey(jwk)) continue;
          next.set(
            jwk.kid!,
            await importJWK({ kty: jwk.kty, crv: jwk.crv, x: jwk.x }, ACCESS_TOKEN_ALGORITHM),
          );
        }
        if ([...this.keys.keys()].some((kid) => !next.has(kid))) this.keyGeneration++;
        this.keys = next;
        this.fetchedAt = this.now();
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }
}

function isEd25519SigningKey(jwk: JWK): boolean {
  return (
    typeof jwk === 'object' &&
    jwk !== null &&
    jwk.kty === 'OKP' &&
    jwk.crv === 'Ed25519' &&
    typeof jwk.x === 'string' &&
    typeof jwk.kid === 'string' &&
    jwk.kid.length > 0 &&
    jwk.d === undefined &&
    (jwk.alg === undefined || jwk.alg === ACCESS_TOKEN_ALGORITHM) &&
    (jwk.use === undefined || jwk.use === 'sig')
  );
}
