import { apiError } from '@palisade/runtime';
import { z } from 'zod';

/** A positive whole number from a query string. */
export function positiveInt(name: string) {
  return z
    .string()
    .regex(/^[1-9][0-9]{0,14}$/, { error: `${name} must be a whole number from 1` })
    .transform(Number);
}

/** Parses query parameters, or answers 400 invalid_query naming every problem (never the values). */
export function parseQuery<T extends z.ZodType>(schema: T, query: unknown): z.infer<T> {
  const parsed = schema.safeParse(query ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown parameter(s): ${issue.keys.join(', ')}`
        : issue.code === 'invalid_type'
          ? `${issue.path.join('.')} must be given once`
          : issue.message,
    );
    throw apiError(400, 'invalid_query', `${problems.join('; ')}.`);
  }
  return parsed.data;
}
