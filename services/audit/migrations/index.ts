import { MigrationSet } from '@palisade/persistence';
import * as auditLog from './202611250500_audit_log';
import * as auditLogGrants from './202612021800_audit_log_grants';

/**
 * The audit service's migrations, in its own schema, after the persistence library's
 * (event store, outbox, inbox). Files: `<yyyymmddhhmm>_<snake_description>.ts`.
 */
export const auditMigrations: MigrationSet = {
  '202611250500_audit_log': auditLog,
  '202612021800_audit_log_grants': auditLogGrants,
};

export { AUDIT_APPENDER_ROLE } from './202611250500_audit_log';
