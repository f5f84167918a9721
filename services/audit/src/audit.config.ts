import { serviceConfigSchema } from '@palisade/config';
import { z } from 'zod';

/** The audit service's whole environment (see libs/config). */
export const auditConfigSchema = serviceConfigSchema('audit', {});
export type AuditConfig = z.infer<typeof auditConfigSchema>;
