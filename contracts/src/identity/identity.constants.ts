import { contextConstants } from '../context';

/** Names owned by the identity context (stream, subjects, schema, replay subject, transport id). */
export const IDENTITY = contextConstants('identity');
