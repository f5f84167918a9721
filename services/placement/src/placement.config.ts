import { serviceConfigSchema } from '@palisade/config';
import { z } from 'zod';

/** The placement service's whole environment (see libs/config). */
export const placementConfigSchema = serviceConfigSchema('placement', {});
export type PlacementConfig = z.infer<typeof placementConfigSchema>;
