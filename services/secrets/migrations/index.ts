import { MigrationSet } from '@palisade/persistence';
import { secretsTables } from './202612021000_secrets_tables';

/**
 * The secrets service's migrations, in its own schema, after the persistence library's
 * (event store, outbox, inbox). Files: `<yyyymmddhhmm>_<snake_description>.ts`.
 */
export const secretsMigrations: MigrationSet = { ...secretsTables };
