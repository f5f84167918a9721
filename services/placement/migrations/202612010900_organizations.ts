import { MigrationSet } from '@palisade/persistence';
import { sql } from 'kysely';

/** The organizations placement knows (from authorization's org.created): a placement names one of them. */
export const organizations: MigrationSet = {
  '202612010900_organizations': {
    async up(db) {
      await sql`create table organizations (org_id text primary key)`.execute(db);
    },
  },
};
