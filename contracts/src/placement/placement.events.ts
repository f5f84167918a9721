import { EventDefinition } from '../registry';

/** Every event type the placement context emits. Later work adds definitions here. */
export const PLACEMENT_EVENTS: readonly EventDefinition[] = [];
