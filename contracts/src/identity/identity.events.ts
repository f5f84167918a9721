import { EventDefinition } from '../registry';

/** Every event type the identity context emits. Later work adds definitions here. */
export const IDENTITY_EVENTS: readonly EventDefinition[] = [];
