import { MigrationSet } from '@palisade/persistence';
import { invitationTokens } from './202611250600_invitation_tokens';

/**
 * The authorization service's migrations, in its own schema, after the persistence library's
 * (event store, outbox, inbox). Files: `<yyyymmddhhmm>_<snake_description>.ts`.
 */
export const authorizationMigrations: MigrationSet = { ...invitationTokens };
