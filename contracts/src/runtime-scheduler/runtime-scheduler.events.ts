import { EventDefinition } from '../registry';

/** Every event type the runtime-scheduler context emits. Later work adds definitions here. */
export const RUNTIME_SCHEDULER_EVENTS: readonly EventDefinition[] = [];
