import { serviceConfigSchema } from '@palisade/config';
import { z } from 'zod';

/** The secrets service's whole environment (see libs/config). */
export const secretsConfigSchema = serviceConfigSchema('secrets', {});
export type SecretsConfig = z.infer<typeof secretsConfigSchema>;
