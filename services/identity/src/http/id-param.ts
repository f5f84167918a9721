import { z } from 'zod';

/** Ids of sessions, users and tokens in paths. */
export const idParam = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
