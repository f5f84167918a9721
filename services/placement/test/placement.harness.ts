import { randomUUID } from 'node:crypto';
import {
  AUTHORIZATION,
  IDENTITY,
  PLACEMENT,
  PLACEMENT_RPC,
  RUNTIME_SCHEDULER,
  runtimeSlept,
  SYSTEM_ORG,
} from '@palisade/contracts';
import type { PlaceReply, PlaceRequest } from '@palisade/contracts';
import {
  contextStreamConfig,
  encodeEnvelope,
  ensureStream,
  inboxPrefix,
  natsAuthorizationConfig,
  rpcSubject,
  servicePermissions,
} from '@palisade/messaging';
import { createDatabase } from '@palisade/persistence';
import { RunningPalisade, serviceLogins, startPalisade } from '@palisade/runtime';
import { apiRequest, privateNats, testDatabase, uniqueId, waitFor } from '@palisade/testing';
import { sql } from 'kysely';
import { connect, NatsConnection } from 'nats';
import { v7 as uuidv7 } from 'uuid';
import { placementService } from '../src';
import { PlacementViewProjection } from '../src/projections/placement-view.projection';
import { authorizationStandIn, Organizations } from './authorization.stand-in';

/** A JSON answer, read loosely by the assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- assertions read answers by path
export type Json = any;

export const TOKENS = { operator: 'writer-token-0123456789ab', member: 'reader-token-0123456789ab' };
/** Who the demo tokens act as (authorization's subjects). */
export const USERS = { operator: 'demo:writer', member: 'demo:reader' };

const PASSWORDS = {
  authorization: randomUUID(),
  placement: randomUUID(),
  scheduler: randomUUID(),
  admin: randomUUID(),
};

export interface PlacementHarness {
  running: RunningPalisade;
  url: string;
  view: PlacementViewProjection['view'];
  /** Connected as the runtime-scheduler (its least-privilege NATS user). */
  scheduler: NatsConnection;
  http(
    method: string,
    path: string,
    options?: { body?: unknown; token?: string },
  ): Promise<{ status: number; body: Json }>;
  place(request: PlaceRequest): Promise<PlaceReply>;
  unplace(runtimeId: string): Promise<Json>;
  /** An organization of this test's own, known to placement; `members` get the role member. */
  organization(members?: string[]): Promise<string>;
  /** Placement's stored events of one type (the domain name, e.g. host.wiped). */
  events(name: string): Promise<Array<{ data: Json; orgid: string }>>;
  /** Publishes a runtime-scheduler event as the runtime-scheduler does. */
  runtimeSlept(orgId: string, workspaceId: string, runtimeId: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Authorization and placement in one process on a nats-server of the test's own, with each
 * service's least-privilege user (and the runtime-scheduler's, for the caller), a fresh
 * database and demo tokens for an operator (owner of `system`) and a member.
 */
export async function startPlacementHarness(env: Record<string, string> = {}): Promise<PlacementHarness> {
  const nats = await privateNats(
    natsAuthorizationConfig([
      {
        user: 'authorization',
        password: PASSWORDS.authorization,
        permissions: servicePermissions(AUTHORIZATION),
      },
      { user: 'placement', password: PASSWORDS.placement, permissions: servicePermissions(PLACEMENT) },
      {
        user: 'scheduler',
        password: PASSWORDS.scheduler,
        permissions: servicePermissions(RUNTIME_SCHEDULER),
      },
      { user: 'admin', password: PASSWORDS.admin },
    ]),
  );
  const database = await testDatabase();
  // The streams of the services not started here: placement consumes the runtime-scheduler's,
  // and verifies credentials once identity's (revocations) can be followed.
  const admin = await connect({ servers: nats.url, user: 'admin', pass: PASSWORDS.admin });
  for (const context of [RUNTIME_SCHEDULER, IDENTITY])
    await ensureStream(await admin.jetstreamManager(), contextStreamConfig(context));
  await admin.close();
  const running = await startPalisade({
    services: [authorizationStandIn, placementService],
    env: {
      ...(await serviceLogins(database.url, database.name).serviceEnv([
        authorizationStandIn,
        placementService,
      ])),
      NATS_URL: nats.url,
      AUTHORIZATION_NATS_USER: 'authorization',
      AUTHORIZATION_NATS_PASSWORD: PASSWORDS.authorization,
      PLACEMENT_NATS_USER: 'placement',
      PLACEMENT_NATS_PASSWORD: PASSWORDS.placement,
      HTTP_PORT: '0',
      LOG_LEVEL: process.env.PROBE_LOG ?? 'silent',
      PALISADE_MODE: 'demo',
      PALISADE_DEMO_TOKENS: `writer:${TOKENS.operator},reader:${TOKENS.member}`,
      PLACEMENT_HEALTH_INTERVAL_MS: '200',
      PLACEMENT_UNHEALTHY_AFTER: '2',
      PLACEMENT_ENGINE_TIMEOUT_MS: '2000',
      PLACEMENT_DRIFT_INTERVAL_MS: '300',
      ...env,
    },
  });
  const scheduler = await connect({
    servers: nats.url,
    user: 'scheduler',
    pass: PASSWORDS.scheduler,
    inboxPrefix: inboxPrefix(RUNTIME_SCHEDULER),
  });
  const orgs = running.app.get(Organizations, { strict: false });
  const projection = running.app.get(PlacementViewProjection, { strict: false });
  const db = createDatabase({ url: database.url, schema: PLACEMENT.schema });

  const ask = async (name: string, body: unknown): Promise<Json> => {
    const reply = await scheduler.request(rpcSubject(PLACEMENT, name), JSON.stringify(body), {
      timeout: 30_000,
    });
    return reply.json();
  };
  const organization = async (members: string[] = []) => {
    const orgId = uniqueId('org');
    await orgs.create(orgId, 'olga', members);
    await waitFor(() => projection.view.index.knowsOrganization(orgId), {
      description: `placement to learn of ${orgId}`,
    });
    return orgId;
  };
  // Platform operators: the owners of `system`.
  await orgs.create(SYSTEM_ORG, USERS.operator);
  return {
    running,
    url: running.url,
    view: projection.view,
    scheduler,
    http: (method, path, options) => apiRequest<Json>(running.url, method, path, options),
    place: (request) => ask(PLACEMENT_RPC.place, request) as Promise<PlaceReply>,
    unplace: (runtimeId) => ask(PLACEMENT_RPC.unplace, { runtimeId }),
    organization,
    async events(name) {
      const { rows } = await sql<{ envelope: { data: unknown; orgid: string } }>`
        select envelope from events where type = ${`palisade.placement.${name}.v1`} order by position`.execute(
        db,
      );
      return rows.map((r) => r.envelope as { data: Json; orgid: string });
    },
    async runtimeSlept(orgId, workspaceId, runtimeId) {
      const id = uuidv7();
      await scheduler.jetstream().publish(
        runtimeSlept.subject(orgId),
        encodeEnvelope({
          specversion: '1.0',
          id,
          source: RUNTIME_SCHEDULER.source,
          type: runtimeSlept.type,
          subject: `runtime/${runtimeId}`,
          time: new Date().toISOString(),
          datacontenttype: 'application/json',
          data: { orgId, workspaceId, runtimeId, reason: 'requested', sleptAt: new Date().toISOString() },
          orgid: orgId,
          actor: 'system',
          correlationid: id,
          sequence: 1,
        }),
        { msgID: id },
      );
    },
    async stop() {
      await scheduler.close();
      await running.stop();
      await db.destroy();
      await database.drop();
      await nats.stop();
    },
  };
}
