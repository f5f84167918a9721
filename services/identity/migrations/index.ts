import { MigrationSet } from '@palisade/persistence';
import { identityTables } from './202611250500_identity_tables';
import { cliLoginHandoff } from './202611250600_cli_login_handoff';

/**
 * The identity service's migrations, in its own schema, after the persistence library's
 * (event store, outbox, inbox). Files: `<yyyymmddhhmm>_<snake_description>.ts`.
 */
export const identityMigrations: MigrationSet = {
  '202611250500_identity_tables': identityTables,
  '202611250600_cli_login_handoff': cliLoginHandoff,
};
