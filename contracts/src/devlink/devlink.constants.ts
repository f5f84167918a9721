import { contextConstants } from '../context';

/** Names owned by the devlink context (stream, subjects, schema, replay subject, transport id). */
export const DEVLINK = contextConstants('devlink');
