import { contextConstants } from '../context';

/** Names owned by the audit context (stream, subjects, schema, replay subject, transport id). */
export const AUDIT = contextConstants('audit');

/** Stream ids of audit's own events in its event store. */
export const AUDIT_STREAMS = {
  /** Every checkpoint.signed, one stream. */
  checkpoints: 'checkpoints',
} as const;
