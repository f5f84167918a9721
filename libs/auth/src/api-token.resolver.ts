import { IDENTITY, IDENTITY_RPC } from '@palisade/contracts';
import { systemClock } from '@palisade/domain';
import type { Clock } from '@palisade/domain';
import { rpcSubject } from '@palisade/messaging';
import type { NatsConnection } from 'nats';
import { ApiTokenResolver } from './access-token.verifier';
import { ApiTokenPrincipal } from './principal';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Resolves API tokens by asking identity over NATS (it sends only the token's SHA-256), with a
 * short cache: a revocation is enforced at once anyway through the revocation list.
 */
export function natsApiTokenResolver(
  nc: () => NatsConnection,
  cacheMs = 30_000,
  clock: Clock = systemClock,
): ApiTokenResolver {
  const cache = new Map<string, { principal?: ApiTokenPrincipal; until: number }>();
  return async (tokenHash) => {
    const hit = cache.get(tokenHash);
    if (hit && hit.until > clock.now()) return hit.principal;
    const reply = await nc().request(
      rpcSubject(IDENTITY.context, IDENTITY_RPC.apiToken),
      encoder.encode(JSON.stringify({ tokenHash })),
      { timeout: 2_000 },
    );
    const body = JSON.parse(decoder.decode(reply.data)) as { principal?: ApiTokenPrincipal | null };
    const principal = body.principal ?? undefined;
    if (cache.size > 10_000) cache.clear();
    cache.set(tokenHash, { principal, until: clock.now() + cacheMs });
    return principal;
  };
}
