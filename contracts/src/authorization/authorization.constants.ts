import { contextConstants } from '../context';

/** Names owned by the authorization context (stream, subjects, schema, replay subject, transport id). */
export const AUTHORIZATION = contextConstants('authorization');

/** Stream ids of authorization's aggregates in its event store. */
export const AUTHORIZATION_STREAMS = {
  /** One organization: membership, grants, root policy, elevations, policy pack. */
  organization: (orgId: string) => `org/${orgId}`,
} as const;
