import { EventDefinition } from '../registry';

/** Every event type the authorization context emits. Later work adds definitions here. */
export const AUTHORIZATION_EVENTS: readonly EventDefinition[] = [];
