import { AUDIT_EVENTS } from './audit';
import { AUTHORIZATION_EVENTS } from './authorization';
import { DEVLINK_EVENTS } from './devlink';
import { IDENTITY_EVENTS } from './identity';
import { PLACEMENT_EVENTS } from './placement';
import { EventRegistry } from './registry';
import { RUNTIME_SCHEDULER_EVENTS } from './runtime-scheduler';
import { SECRETS_EVENTS } from './secrets';

/** Every event type of every context, in one registry. */
export const ALL_EVENTS = [
  ...IDENTITY_EVENTS,
  ...AUTHORIZATION_EVENTS,
  ...PLACEMENT_EVENTS,
  ...SECRETS_EVENTS,
  ...DEVLINK_EVENTS,
  ...RUNTIME_SCHEDULER_EVENTS,
  ...AUDIT_EVENTS,
];

export function createEventRegistry(): EventRegistry {
  return new EventRegistry(ALL_EVENTS);
}
