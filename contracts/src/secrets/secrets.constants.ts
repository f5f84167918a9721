import { contextConstants } from '../context';

/** Names owned by the secrets context (stream, subjects, schema, replay subject, transport id). */
export const SECRETS = contextConstants('secrets');
