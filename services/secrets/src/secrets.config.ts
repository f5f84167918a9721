import { choice, httpUrlField, serviceConfigSchema } from '@palisade/config';
import { z } from 'zod';

/** Where `palisade dev` and a plain `serve` keep the local store's master key when nothing else is set. */
export const DEFAULT_MASTER_KEY_FILE = '.palisade/secrets-master.key';

/** The secrets service's whole environment (see libs/config). AWS credentials come from the SDK's provider chain. */
export const secretsConfigSchema = serviceConfigSchema('secrets', {
  /** Where values live: `local` (AES-256-GCM envelopes in Postgres, the dev default) or `ssm`. */
  SECRETS_BACKEND: choice(['local', 'ssm']).default('local'),
  /** The local store's master key file (created 0600 when missing, outside production). */
  SECRETS_MASTER_KEY_FILE: z.string().min(1).max(4096).optional(),
  /** The AWS region of SSM Parameter Store (required with SECRETS_BACKEND=ssm). */
  SECRETS_SSM_REGION: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, { error: 'must be an AWS region, e.g. eu-central-1' })
    .optional(),
  /** Another SSM endpoint than AWS's for the region (a VPC endpoint; the tests' endpoint). */
  SECRETS_SSM_ENDPOINT: httpUrlField().optional(),
  /** The parameter hierarchy: values live at `<prefix>/<org>/<workspace>/<NAME>`. */
  SECRETS_SSM_PREFIX: z
    .string()
    .regex(/^(\/[A-Za-z0-9_.-]+){1,5}$/, { error: 'must be a parameter path such as /palisade' })
    .default('/palisade'),
  /** The KMS key of an organization's values (`{org}` is replaced by the organization id). */
  SECRETS_SSM_KMS_KEY: z.string().min(1).max(2048).default('alias/palisade-{org}'),
  /** Attempts per SSM call, retries by the SDK included (throttling backs off). */
  SECRETS_SSM_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(4),
  /** How long a resolve waits for the view to reach the wake it names (`atLeast`), in ms. */
  SECRETS_RESOLVE_WAIT_MS: z.coerce.number().int().min(0).max(30_000).default(2_000),
}).superRefine((value, ctx) => {
  const issue = (path: string, message: string, fix: string) =>
    ctx.addIssue({ code: 'custom', path: [path], message, params: { fix } });
  if (value.SECRETS_BACKEND === 'ssm' && value.SECRETS_SSM_REGION === undefined)
    issue(
      'SECRETS_SSM_REGION',
      'is required when SECRETS_BACKEND=ssm',
      'set it to the region of your parameters, e.g. eu-central-1',
    );
  if (
    value.PALISADE_MODE === 'production' &&
    value.SECRETS_BACKEND === 'local' &&
    value.SECRETS_MASTER_KEY_FILE === undefined
  )
    issue(
      'SECRETS_MASTER_KEY_FILE',
      'is required in production with the local backend (the key must live where you back it up)',
      'set SECRETS_BACKEND=ssm (recommended), or SECRETS_MASTER_KEY_FILE to a 0600 key file you back up',
    );
});
export type SecretsConfig = z.infer<typeof secretsConfigSchema>;
