import {
  apiTokenRevoked,
  EventEnvelope,
  EventRegistry,
  IDENTITY,
  IDENTITY_RPC,
  sessionRevoked,
  signingKeyRotated,
} from '@palisade/contracts';
import {
  decodeEnvelope,
  describeError,
  isNotFound,
  MessagingLogger,
  rpcSubject,
  silentLogger,
} from '@palisade/messaging';
import { ConsumerMessages, DeliverPolicy, JsMsg, NatsConnection, OrderedConsumerOptions } from 'nats';
import { REVOCATION_MEMORY_MS, RevocationList } from './revocation-list';

const registry = new EventRegistry([sessionRevoked, apiTokenRevoked, signingKeyRotated]);
/** `evt.identity.<org>.<entity>.revoked`: every identity revocation, of any organization (one filter: nats-server 2.9 has no filter_subjects). */
const REVOKED_FILTER = `evt.${IDENTITY.context}.*.*.revoked`;
const decoder = new TextDecoder();
const encoder = new TextEncoder();

export interface RevocationFeed {
  /** Resolves once every revocation of the last REVOCATION_MEMORY_MS is applied. */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

export interface RevocationFeedOptions {
  /** How long to wait between attempts while identity's stream does not exist yet (default 500 ms). */
  retryMs?: number;
  logger?: MessagingLogger;
  /** Called after each applied revocation (benchmarks). */
  onApplied?: (kind: 'session' | 'api_token', id: string) => void;
  /** Called when identity rotates its signing key (refetch the JWKS at once). */
  onKeyRotated?: (kid: string) => void;
}

interface Follower {
  ready: Promise<void>;
  stop(): Promise<void>;
}

/** An ordered (ephemeral) consumer of identity's stream; retries until the stream exists. */
function follow(
  nc: NatsConnection,
  consumerOptions: Partial<OrderedConsumerOptions>,
  apply: (envelope: EventEnvelope) => void,
  options: RevocationFeedOptions,
): Follower {
  const logger = options.logger ?? silentLogger;
  let stopped = false;
  let messages: ConsumerMessages | undefined;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const onMessage = (msg: JsMsg) => {
    try {
      apply(decodeEnvelope(msg.subject, msg.data, registry, { requireKnownType: true }));
    } catch (error) {
      logger.warn(
        { subject: msg.subject, err: describeError(error) },
        'ignored an undecodable identity event',
      );
    }
    if (msg.info.pending === 0) markReady();
  };
  const started = (async () => {
    const js = nc.jetstream();
    while (!stopped) {
      try {
        // Inside the retry: a busy JetStream can time out any API call, this one included.
        const jsm = await nc.jetstreamManager();
        await jsm.streams.info(IDENTITY.stream);
        const consumer = await js.consumers.get(IDENTITY.stream, consumerOptions);
        messages = await consumer.consume({ callback: onMessage });
        if ((await consumer.info()).num_pending === 0) markReady();
        return;
      } catch (error) {
        if (!isNotFound(error)) logger.warn({ err: describeError(error) }, 'identity event feed is retrying');
        await new Promise((resolve) => setTimeout(resolve, options.retryMs ?? 500));
      }
    }
  })();
  // Never an unhandled rejection: the loop above only ends by returning or by stop().
  started.catch((error: unknown) =>
    logger.warn({ err: describeError(error) }, 'identity event feed stopped'),
  );
  return {
    ready,
    async stop() {
      stopped = true;
      await started.catch(() => undefined);
      await messages?.close();
    },
  };
}

/**
 * Follows identity's session.revoked and api_token.revoked events into a RevocationList, from
 * REVOCATION_MEMORY_MS back, so a service that starts (or restarts) knows every revocation that
 * can still matter before it verifies anything; and signing_key.rotated, so the JWKS is
 * refetched as soon as a new key signs.
 */
export function followRevocations(
  nc: NatsConnection,
  list: RevocationList,
  options: RevocationFeedOptions = {},
): RevocationFeed {
  const revocations = follow(
    nc,
    {
      filterSubjects: REVOKED_FILTER,
      opt_start_time: new Date(Date.now() - REVOCATION_MEMORY_MS).toISOString(),
    },
    (envelope) => {
      if (envelope.type === sessionRevoked.type) {
        const { sessionId } = envelope.data as { sessionId: string };
        list.revokeSession(sessionId, Date.parse(envelope.time));
        options.onApplied?.('session', sessionId);
      } else if (envelope.type === apiTokenRevoked.type) {
        const { tokenId } = envelope.data as { tokenId: string };
        list.revokeApiToken(tokenId);
        options.onApplied?.('api_token', tokenId);
      }
    },
    options,
  );
  const rotations = options.onKeyRotated
    ? follow(
        nc,
        { filterSubjects: signingKeyRotated.filter(), deliver_policy: DeliverPolicy.New },
        (envelope) => options.onKeyRotated?.((envelope.data as { kid: string }).kid),
        options,
      )
    : undefined;
  return {
    ready: revocations.ready,
    async stop() {
      await Promise.all([revocations.stop(), rotations?.stop()]);
    },
  };
}

/** Fetches identity's public JWKS over NATS request/reply. */
export function natsJwksFetcher(nc: NatsConnection, timeoutMs = 2_000) {
  return async (): Promise<{ keys: unknown[] }> => {
    // An empty object, not an empty body: the app-wide throttler guard also runs on request handlers
    // and reads the payload as if it were an HTTP request.
    const reply = await nc.request(rpcSubject(IDENTITY.context, IDENTITY_RPC.jwks), encoder.encode('{}'), {
      timeout: timeoutMs,
    });
    const body = JSON.parse(decoder.decode(reply.data)) as { keys?: unknown };
    if (!Array.isArray(body.keys)) throw new Error('identity answered the JWKS request without keys');
    return { keys: body.keys };
  };
}
