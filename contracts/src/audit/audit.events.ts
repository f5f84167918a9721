import { EventDefinition } from '../registry';

/** Every event type the audit context emits. Later work adds definitions here. */
export const AUDIT_EVENTS: readonly EventDefinition[] = [];
