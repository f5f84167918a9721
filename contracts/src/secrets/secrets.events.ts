import { EventDefinition } from '../registry';

/** Every event type the secrets context emits. Later work adds definitions here. */
export const SECRETS_EVENTS: readonly EventDefinition[] = [];
