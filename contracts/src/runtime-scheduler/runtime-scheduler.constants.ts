import { contextConstants } from '../context';

/** Names owned by the runtime-scheduler context (stream, subjects, schema, replay subject, transport id). */
export const RUNTIME_SCHEDULER = contextConstants('runtime-scheduler');
