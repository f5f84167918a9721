import { contextConstants } from '../context';

/** Names owned by the placement context (stream, subjects, schema, replay subject, transport id). */
export const PLACEMENT = contextConstants('placement');
