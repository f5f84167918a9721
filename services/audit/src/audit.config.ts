import { httpUrlField, nameField, sensitive, serviceConfigSchema } from '@palisade/config';
import { z } from 'zod';
import { parsePrivateKey } from './domain/checkpoint';

function isSigningKey(text: string): boolean {
  try {
    parsePrivateKey(text);
    return true;
  } catch {
    return false;
  }
}

/** A positive whole number from the environment, within bounds. */
function countField(min: number, max: number) {
  return z
    .string()
    .refine((value) => /^\d{1,9}$/.test(value) && Number(value) >= min && Number(value) <= max, {
      error: `must be a whole number from ${min} to ${max}`,
    })
    .transform(Number);
}

/** The audit service's whole environment (see libs/config). */
export const auditConfigSchema = serviceConfigSchema('audit', {
  /**
   * Ed25519 private key that signs checkpoints: PKCS#8 PEM or the base64 of the 32-byte seed.
   * Required in production; dev and demo generate one on first start and keep it in the audit schema.
   */
  AUDIT_SIGNING_KEY: sensitive(
    z.string().refine(isSigningKey, {
      error: 'must be an Ed25519 private key: PKCS#8 PEM, or the base64 of its 32-byte seed',
    }),
    { checkStrength: false },
  ).optional(),
  /** Sign a checkpoint once this many entries were appended since the last one. */
  AUDIT_CHECKPOINT_EVERY: countField(1, 1_000_000).default(1000),
  /** ...or once this many milliseconds passed with new entries. */
  AUDIT_CHECKPOINT_INTERVAL_MS: countField(100, 86_400_000).default(30_000),
  /** ClickHouse HTTP endpoint for the telemetry export; the exporter is off when unset. */
  AUDIT_CLICKHOUSE_URL: httpUrlField().optional(),
  AUDIT_CLICKHOUSE_DATABASE: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, { error: 'must be a ClickHouse database name' })
    .default('palisade_audit'),
  /** The exporter's own insert-only ClickHouse user (shares nothing with Postgres or NATS). */
  AUDIT_CLICKHOUSE_USER: nameField().default('palisade_exporter'),
  AUDIT_CLICKHOUSE_PASSWORD: sensitive(z.string()).optional(),
  /** Most rows per ClickHouse insert. */
  AUDIT_EXPORT_BATCH_SIZE: countField(1, 100_000).default(5000),
  /** Longest wait before a partial batch is sent (ms). */
  AUDIT_EXPORT_FLUSH_MS: countField(10, 600_000).default(1000),
}).superRefine((value, ctx) => {
  if (value.PALISADE_MODE === 'production' && value.AUDIT_SIGNING_KEY === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['AUDIT_SIGNING_KEY'],
      message: 'is required in production (checkpoints must be signed by a key you keep)',
      params: {
        fix: 'set AUDIT_SIGNING_KEY to an Ed25519 key, e.g. from `openssl genpkey -algorithm ed25519`',
      },
    });
  }
});
export type AuditConfig = z.infer<typeof auditConfigSchema>;
