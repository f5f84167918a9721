import { MigrationSet } from '@palisade/persistence';

/**
 * The audit service's migrations, in its own schema, after the persistence library's
 * (event store, outbox, inbox). Files: `<yyyymmddhhmm>_<snake_description>.ts`.
 */
export const auditMigrations: MigrationSet = {};
