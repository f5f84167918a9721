import { z } from 'zod';

/** A positive whole number from a query string. */
export function positiveInt() {
  return z
    .string()
    .regex(/^[1-9][0-9]{0,14}$/, { error: 'must be a whole number from 1' })
    .transform(Number);
}

/** A page size from a query string: 1..1000. */
export const pageLimit = () =>
  positiveInt()
    .pipe(z.number().max(1000, { error: 'is at most 1000' }))
    .optional();

/** Every query of the audit API is refused with this code when it is not valid. */
export const INVALID_QUERY = { code: 'invalid_query' } as const;
