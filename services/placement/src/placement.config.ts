import os from 'node:os';
import path from 'node:path';
import { serviceConfigSchema } from '@palisade/config';
import { HOST_PROVIDERS, parseCapacity, parseEngineUrl } from '@palisade/contracts';
import { z } from 'zod';

const millis = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

/** The placement service's whole environment (see libs/config). */
export const placementConfigSchema = serviceConfigSchema('placement', {
  /** How often every host's engine is pinged (ms). */
  PLACEMENT_HEALTH_INTERVAL_MS: millis(100, 600_000, 5_000),
  /** Failed pings in a row before a host is marked unhealthy (and its runtimes evicted). */
  PLACEMENT_UNHEALTHY_AFTER: z.coerce.number().int().min(1).max(100).default(2),
  /** How long one engine request may take (ms): a ping, a listing, one removal. */
  PLACEMENT_ENGINE_TIMEOUT_MS: millis(100, 120_000, 3_000),
  /** How often the drift detector lists what runs on every engine (ms). */
  PLACEMENT_DRIFT_INTERVAL_MS: millis(100, 3_600_000, 30_000),
  /** Client certificates of tcp+tls:// engines: `<dir>/<engine host>/{ca,cert,key}.pem`. */
  PLACEMENT_ENGINE_TLS_DIR: z.string().min(1).optional(),
  /** Where new hosts come from when the pool is full: `static` (none; the registered pool) or `local`. */
  PLACEMENT_PROVIDER: z
    .enum(HOST_PROVIDERS, { error: `must be one of ${HOST_PROVIDERS.join(', ')}` })
    .default('static'),
  /** The local provider's engines live in `<dir>/<hostId>/` (keep it short: Unix socket paths). */
  PLACEMENT_LOCAL_DIR: z.string().min(1).default(path.join(os.tmpdir(), 'palisade-hosts')),
  /** The most hosts the local provider starts. */
  PLACEMENT_LOCAL_MAX_HOSTS: z.coerce.number().int().min(0).max(64).default(2),
  /** The capacity of each local host, as `palisade host add --capacity` takes it. */
  PLACEMENT_LOCAL_CAPACITY: z
    .string()
    .default('cpu=2,memory=4Gi,runtimes=10')
    .transform((text, ctx) => {
      const parsed = parseCapacity(text);
      if ('error' in parsed) {
        ctx.addIssue({ code: 'custom', message: parsed.error });
        return z.NEVER;
      }
      return parsed;
    }),
  /**
   * `palisade dev`'s one host: the URL of the user's own engine (registered as a host when it is
   * not yet), or `local` (one engine started through the local provider). Unset: no dev host.
   */
  PLACEMENT_DEV_ENGINE: z
    .string()
    .refine((value) => value === 'local' || !('error' in parseEngineUrl(value)), {
      error: 'must be local, unix:///path/docker.sock or tcp+tls://host:port',
    })
    .optional(),
});
export type PlacementConfig = z.infer<typeof placementConfigSchema>;
