import { serviceConfigSchema } from '@palisade/config';
import { z } from 'zod';

/** The identity service's whole environment (see libs/config). */
export const identityConfigSchema = serviceConfigSchema('identity', {});
export type IdentityConfig = z.infer<typeof identityConfigSchema>;
