import { z } from 'zod';

/** What `maskConfig` and log output show in place of a sensitive value. */
export const REDACTED = '[redacted]';

/** How a sensitive field is treated beyond masking. */
export interface SensitiveOptions {
  /**
   * The part of the parsed value whose strength production mode checks (default: the value
   * itself when it is a string). Return undefined when the value holds no secret.
   */
  secretPart?: (value: unknown) => string | undefined;
  /** Production refuses a value whose `secretPart` is undefined (e.g. a database URL without a password). */
  requireSecret?: boolean;
  /** Whether production mode checks the secret's strength (default true). */
  checkStrength?: boolean;
  /** How problems name the secret, e.g. "the password in DATABASE_URL" (default: the key). */
  describe?: (key: string) => string;
}

/** Schemas marked by `sensitive()`; metadata is inherited by clones (`.refine`, `.describe`, ...). */
const sensitiveFields = z.registry<SensitiveOptions & { sensitive: true }>();

/** Marks a config field as sensitive: masked when printed, never echoed in errors, strength-checked in production. */
export function sensitive<T extends z.ZodType>(schema: T, options: SensitiveOptions = {}): T {
  const marked = schema.clone() as T;
  sensitiveFields.add(marked, { ...options, sensitive: true });
  return marked;
}

/** The sensitivity options of a field, looking through optional/default/nullable/pipe wrappers; undefined if not sensitive. */
export function sensitiveOptions(schema: unknown): SensitiveOptions | undefined {
  const seen = new Set<unknown>();
  const visit = (current: unknown): SensitiveOptions | undefined => {
    if (!(current instanceof z.ZodType) || seen.has(current)) return undefined;
    seen.add(current);
    const own = sensitiveFields.get(current);
    if (own) return own;
    const def = (current as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
    return visit(def.innerType) ?? visit(def.in) ?? visit(def.out);
  };
  return visit(schema);
}

/** Whether a field (or any schema it wraps) is marked sensitive. */
export function isSensitive(schema: unknown): boolean {
  return sensitiveOptions(schema) !== undefined;
}

/** The field schemas of an object schema (empty for any other schema). */
export function configShape(schema: z.ZodType): Readonly<Record<string, z.core.$ZodType>> {
  return schema instanceof z.ZodObject ? (schema.shape as Record<string, z.core.$ZodType>) : {};
}

/** The keys of an object schema whose fields are marked sensitive. */
export function sensitiveKeys(schema: z.ZodType): string[] {
  return Object.entries(configShape(schema))
    .filter(([, field]) => isSensitive(field))
    .map(([key]) => key);
}

/** A copy of a parsed config with every set sensitive value replaced by '[redacted]' (safe to print or log). */
export function maskConfig<T extends object>(
  schema: z.ZodType,
  config: T,
): { [K in keyof T]: T[K] | typeof REDACTED } {
  const masked: Record<string, unknown> = { ...(config as Record<string, unknown>) };
  for (const key of sensitiveKeys(schema)) {
    if (masked[key] !== undefined) masked[key] = REDACTED;
  }
  return masked as { [K in keyof T]: T[K] | typeof REDACTED };
}
