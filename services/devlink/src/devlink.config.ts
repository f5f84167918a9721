import { serviceConfigSchema } from '@palisade/config';
import { z } from 'zod';

/** The devlink service's whole environment (see libs/config). */
export const devlinkConfigSchema = serviceConfigSchema('devlink', {});
export type DevlinkConfig = z.infer<typeof devlinkConfigSchema>;
