import { EventDefinition } from '../registry';

/** Every event type the devlink context emits. Later work adds definitions here. */
export const DEVLINK_EVENTS: readonly EventDefinition[] = [];
