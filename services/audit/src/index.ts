import { AUDIT } from '@palisade/contracts';
import { defineService } from '@palisade/runtime';
import { auditConfigSchema } from './audit.config';
import { AuditModule } from './audit.module';

export * from './audit.config';
export * from './audit.module';
/** What `palisade audit verify` and `palisade audit export` run. */
export * from './verify';

/** How `palisade dev` and `palisade serve --target audit` run this service. */
export const auditService = defineService({
  context: AUDIT,
  configSchema: auditConfigSchema,
  module: (config) => AuditModule.register(config),
});
