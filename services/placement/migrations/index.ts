import { MigrationSet } from '@palisade/persistence';
import { organizations } from './202612010900_organizations';

/**
 * The placement service's migrations, in its own schema, after the persistence library's
 * (event store, outbox, inbox). Files: `<yyyymmddhhmm>_<snake_description>.ts`.
 */
export const placementMigrations: MigrationSet = { ...organizations };
