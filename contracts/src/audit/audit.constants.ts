import { contextConstants } from '../context';

/** Names owned by the audit context (stream, subjects, schema, replay subject, transport id). */
export const AUDIT = contextConstants('audit');
