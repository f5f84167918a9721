import { z } from 'zod';
import { orgIdSchema, userIdSchema, workspaceIdSchema } from '../authorization';
import { defineEvent, DomainEventsOf, EventDefinition } from '../registry';
import { serviceNameSchema } from '../runtime-scheduler/runtime-scheduler.events';
import { DEVLINK } from './devlink.constants';

const ctx = DEVLINK.context;
const timestamp = z.iso.datetime({ offset: true });

/** A link id: random, URL- and DNS-label-safe (it is the link's own origin, `<linkId>.<gateway domain>`). */
export const linkIdSchema = z.string().regex(/^[a-z0-9]{20,40}$/, '20..40 lowercase letters and digits');

/** What a link opens of its one service. Nothing else is ever reachable. */
export const LINK_SURFACES = ['web', 'api', 'assets', 'websocket'] as const;
export const linkSurfaceSchema = z.enum(LINK_SURFACES);
export type LinkSurface = z.infer<typeof linkSurfaceSchema>;

const linkRef = { orgId: orgIdSchema, workspaceId: workspaceIdSchema, linkId: linkIdSchema };

export const linkIssued = defineEvent({
  context: ctx,
  entity: 'link',
  verb: 'issued',
  description: 'A dev link to one service of one workspace was issued, with its expiry and surfaces.',
  data: z
    .object({
      ...linkRef,
      service: serviceNameSchema,
      surfaces: z.array(linkSurfaceSchema).min(1),
      expiresAt: timestamp,
      note: z.string().max(500).optional(),
      issuedBy: userIdSchema,
    })
    .strict(),
});

export const linkFirstUsed = defineEvent({
  context: ctx,
  entity: 'link',
  verb: 'first_used',
  description:
    'A link was opened for the first time (the reviewer has no Palisade account; the client is summarised).',
  data: z.object({ ...linkRef, at: timestamp, client: z.string().max(200).optional() }).strict(),
});

export const linkRevoked = defineEvent({
  context: ctx,
  entity: 'link',
  verb: 'revoked',
  description: 'A link was revoked; the gateway refuses it from now on and closes its open WebSockets.',
  data: z.object({ ...linkRef, revokedBy: userIdSchema, revokedAt: timestamp }).strict(),
});

export const linkExpired = defineEvent({
  context: ctx,
  entity: 'link',
  verb: 'expired',
  description: 'A link reached its expiry.',
  data: z.object({ ...linkRef, expiredAt: timestamp }).strict(),
});

export const linkAllowlistChanged = defineEvent({
  context: ctx,
  entity: 'link',
  verb: 'allowlist_changed',
  description: "A link's surfaces allowlist changed.",
  data: z
    .object({ ...linkRef, surfaces: z.array(linkSurfaceSchema).min(1), changedBy: userIdSchema })
    .strict(),
});

export const gatewayDenied = defineEvent({
  context: ctx,
  entity: 'gateway',
  verb: 'denied',
  description: 'The gateway refused requests (sampled and rate-limited per link and reason).',
  data: z
    .object({
      orgId: orgIdSchema,
      workspaceId: workspaceIdSchema.optional(),
      linkId: linkIdSchema.optional(),
      reason: z.string().min(1).max(64),
      count: z.int().min(1),
      at: timestamp,
    })
    .strict(),
});

/** Every event type the devlink context emits. */
export const DEVLINK_EVENTS = [
  linkIssued,
  linkFirstUsed,
  linkRevoked,
  linkExpired,
  linkAllowlistChanged,
  gatewayDenied,
] as const satisfies readonly EventDefinition[];

/** The devlink context's domain events: `{ type, data }`. */
export type DevlinkEvent = DomainEventsOf<typeof DEVLINK_EVENTS>;
