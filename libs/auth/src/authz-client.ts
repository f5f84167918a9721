import { RuleError, systemClock } from '@palisade/domain';
import type { Clock } from '@palisade/domain';
import { AUTHORIZATION, AUTHZ_RPC, parseEventSubject } from '@palisade/contracts';
import type { AuthzCheck, AuthzCheckReply, AuthzDecision } from '@palisade/contracts';
import { HEADER_SEQUENCE, rpcSubject } from '@palisade/messaging';
import { DeliverPolicy } from 'nats';
import type { ConsumerMessages, JsMsg, NatsConnection } from 'nats';

export interface AuthzClientOptions {
  /** How long a cached decision is trusted without an event about its organization (default 60 s). */
  ttlMs?: number;
  /** Most cached decisions per organization (default 10,000; the oldest go first). */
  maxPerOrg?: number;
  /** Request timeout (default 2 s). */
  timeoutMs?: number;
  /** What cached decisions expire by (default the system clock). */
  clock?: Clock;
}

/** Authorization did not answer (or refused the question): deny, and say so as a 503. */
export class AuthzUnavailableError extends RuleError {
  override readonly name = 'AuthzUnavailableError';
  constructor(readonly reason: string) {
    super(503, 'authz_unavailable', 'Authorization did not answer; try again shortly.');
  }
}

interface OrgCache {
  /** Bumped by every authorization event of the organization: answers asked before it are not cached. */
  generation: number;
  /** The highest authorization event sequence seen for the organization. */
  seen: number;
  entries: Map<string, { decision: AuthzDecision; expires: number }>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The cache key of a check: every field of its subject, action and resource, canonically (keys
 * sorted, absent and undefined alike). Built from the values, not from a list of field names, so
 * a field a new service adds to the resource schema (a link, a service) can never make two
 * different checks share one cached decision.
 */
export function authzCacheKey(check: AuthzCheck): string {
  return canonical([check.subject, check.action, check.resource]);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const fields = Object.keys(value)
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`);
    return `{${fields.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * What other services use to ask authorization. Decisions are cached per organization and
 * dropped when any authorization event of that organization arrives (an ordered JetStream
 * consumer of headers only); a question asked after such an event carries its sequence, so
 * the answer is never from before it. Unavailable authorization means deny, never allow.
 */
export class AuthzClient {
  private readonly orgs = new Map<string, OrgCache>();
  private readonly ttlMs: number;
  private readonly maxPerOrg: number;
  private readonly timeoutMs: number;
  private readonly clock: Clock;
  private messages?: ConsumerMessages;

  constructor(
    private readonly nc: NatsConnection,
    options: AuthzClientOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.maxPerOrg = options.maxPerOrg ?? 10_000;
    this.timeoutMs = options.timeoutMs ?? 2_000;
    this.clock = options.clock ?? systemClock;
  }

  /** Starts following authorization events (from now on). */
  async start(): Promise<void> {
    const consumer = await this.nc.jetstream().consumers.get(AUTHORIZATION.stream, {
      deliver_policy: DeliverPolicy.New,
      headers_only: true,
    });
    this.messages = await consumer.consume({ callback: (m) => this.onEvent(m) });
  }

  async stop(): Promise<void> {
    await this.messages?.close();
    this.orgs.clear();
  }

  async check(request: AuthzCheck): Promise<AuthzDecision> {
    return (await this.checkMany([request]))[0];
  }

  /** Decides several checks; only those not cached go to authorization, in one request. */
  async checkMany(requests: readonly AuthzCheck[]): Promise<AuthzDecision[]> {
    const now = this.clock.now();
    const decisions: Array<AuthzDecision | undefined> = requests.map((r) => {
      const hit = this.orgs.get(r.resource.orgId)?.entries.get(authzCacheKey(r));
      return hit && hit.expires > now ? hit.decision : undefined;
    });
    const missing = requests.map((r, i) => (decisions[i] ? -1 : i)).filter((i) => i >= 0);
    if (missing.length === 0) return decisions as AuthzDecision[];
    const asked = missing.map((i) => requests[i]);
    const generations = asked.map((r) => this.org(r.resource.orgId).generation);
    const atLeast = Math.max(0, ...asked.map((r) => this.org(r.resource.orgId).seen));
    const reply = await this.ask(asked, atLeast);
    reply.decisions.forEach((decision, k) => {
      const request = asked[k];
      decisions[missing[k]] = decision;
      const org = this.org(request.resource.orgId);
      // Only an answer no event has overtaken may be remembered.
      if (org.generation !== generations[k]) return;
      if (org.entries.size >= this.maxPerOrg) org.entries.delete(org.entries.keys().next().value!);
      org.entries.set(authzCacheKey(request), { decision, expires: this.clock.now() + this.ttlMs });
    });
    return decisions as AuthzDecision[];
  }

  /** Cached decisions (all organizations); for metrics and tests. */
  get cached(): number {
    let n = 0;
    for (const org of this.orgs.values()) n += org.entries.size;
    return n;
  }

  private org(orgId: string): OrgCache {
    let org = this.orgs.get(orgId);
    if (!org) this.orgs.set(orgId, (org = { generation: 0, seen: 0, entries: new Map() }));
    return org;
  }

  private onEvent(m: JsMsg): void {
    m.ack();
    const parsed = parseEventSubject(m.subject);
    if (!parsed) return;
    const org = this.org(parsed.orgId);
    org.generation++;
    org.entries.clear();
    const sequence = Number(m.headers?.get(HEADER_SEQUENCE));
    if (Number.isSafeInteger(sequence) && sequence > org.seen) org.seen = sequence;
  }

  private async ask(checks: AuthzCheck[], atLeast: number): Promise<AuthzCheckReply> {
    let reply;
    try {
      reply = await this.nc.request(
        rpcSubject(AUTHORIZATION, AUTHZ_RPC.check),
        encoder.encode(JSON.stringify({ checks, ...(atLeast ? { atLeast } : {}) })),
        { timeout: this.timeoutMs },
      );
    } catch (error) {
      throw new AuthzUnavailableError(`authorization did not answer: ${(error as Error).message}`);
    }
    const body = JSON.parse(decoder.decode(reply.data)) as
      AuthzCheckReply | { error: { code: string; message: string } };
    if ('error' in body)
      throw new AuthzUnavailableError(`authorization refused the check: ${body.error.code}`);
    return body;
  }
}
