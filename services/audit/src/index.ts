import { AUDIT } from '@palisade/contracts';
import { defineService } from '@palisade/runtime';
import { auditConfigSchema } from './audit.config';
import { AuditModule } from './audit.module';

export * from './audit.config';
export * from './audit.module';

/** How `palisade dev` and `palisade serve --target audit` run this service. */
export const auditService = defineService({
  context: AUDIT,
  configSchema: auditConfigSchema,
  module: (config) => AuditModule.register(config),
});
export * from './verify';
export * from './http/audit-read.authorizer';
