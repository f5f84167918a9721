import { contextConstants } from '../context';

/** Names owned by the authorization context (stream, subjects, schema, replay subject, transport id). */
export const AUTHORIZATION = contextConstants('authorization');
