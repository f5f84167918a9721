import { serviceConfigSchema } from '@palisade/config';
import { z } from 'zod';
import { allowlistEntrySchema } from '@palisade/contracts';

/** A comma-separated allowlist from the environment (empty when unset). */
const allowlistField = () =>
  z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
    )
    .pipe(z.array(allowlistEntrySchema).max(200));

/** The authorization service's whole environment (see libs/config). */
export const authorizationConfigSchema = serviceConfigSchema('authorization', {
  /**
   * Images, networks and tools an admin may add to an organization's policy pack. They take
   * effect only through the admin action (POST /v1/orgs/{orgId}/policy-pack with
   * applyEnvironment), which is itself an event; setting them changes nothing alone.
   */
  PALISADE_ALLOWED_IMAGES: allowlistField(),
  PALISADE_ALLOWED_NETWORKS: allowlistField(),
  PALISADE_ALLOWED_TOOLS: allowlistField(),
  /** How often approved elevations past their expiry are closed out (ms). */
  AUTHORIZATION_ELEVATION_SWEEP_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
});
export type AuthorizationConfig = z.infer<typeof authorizationConfigSchema>;
