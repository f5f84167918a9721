import { serviceConfigSchema } from '@palisade/config';
import { z } from 'zod';

/** The runtime-scheduler service's whole environment (see libs/config). */
export const runtimeSchedulerConfigSchema = serviceConfigSchema('runtime-scheduler', {});
export type RuntimeSchedulerConfig = z.infer<typeof runtimeSchedulerConfigSchema>;
