import type { ServiceDatabase } from '@palisade/persistence';
import { IdentityTables } from './identity.tables';

/** The identity service's database: its projections and the persistence library's tables. */
export type IdentityDatabase = ServiceDatabase<IdentityTables>;
