import { AUDIT } from '@palisade/contracts';
import { defineService } from '@palisade/runtime';
import { auditConfigSchema } from './audit.config';
import { AuditModule } from './audit.module';
import { AUDIT_APPENDER_ROLE, auditMigrations } from '../migrations';

export * from './audit.config';
export * from './audit.module';
/** What `palisade audit verify` and `palisade audit export` run. */
export * from './verify';

/** How `palisade dev` and `palisade serve --target audit` run this service. */
export const auditService = defineService({
  context: AUDIT,
  configSchema: auditConfigSchema,
  migrations: auditMigrations,
  schemaRoles: [AUDIT_APPENDER_ROLE],
  module: (config) => AuditModule.register(config),
});
