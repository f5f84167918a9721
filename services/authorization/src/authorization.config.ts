import { serviceConfigSchema } from '@palisade/config';
import { z } from 'zod';

/** The authorization service's whole environment (see libs/config). */
export const authorizationConfigSchema = serviceConfigSchema('authorization', {});
export type AuthorizationConfig = z.infer<typeof authorizationConfigSchema>;
