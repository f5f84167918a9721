import { apiError } from '@palisade/runtime';
import { z } from 'zod';

/** Validates outside input at the edge: a 400 with `code` and a sentence, never the input echoed. */
export function parseBody<S extends z.ZodType>(
  schema: S,
  body: unknown,
  code: string,
  message: string,
): z.output<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw apiError(400, code, message);
  return parsed.data;
}

/** Ids of sessions, users and tokens in paths. */
export const idParam = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
