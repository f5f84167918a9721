import type { SecretsEvent } from '@palisade/contracts';
import { deciderSpec } from '@palisade/testing';
import { SecretCommand, secretDecider, secretStreamId } from '../src/domain/secret.decider';

const key = { orgId: 'acme', workspaceId: 'api', name: 'DATABASE_URL' };
const set = (by = 'olga'): SecretCommand => ({ type: 'setSecret', ...key, backend: 'local', by });
const del = (by = 'olga'): SecretCommand => ({ type: 'deleteSecret', ...key, by });
const metadata = (version: number, changedBy = 'olga') => ({
  ...key,
  version,
  backend: 'local' as const,
  changedBy,
});
const created = (version: number): SecretsEvent => ({ type: 'secret.created', data: metadata(version) });
const updated = (version: number): SecretsEvent => ({ type: 'secret.updated', data: metadata(version) });
const deleted: SecretsEvent = { type: 'secret.deleted', data: { ...key, deletedBy: 'olga' } };
const secret = deciderSpec(secretDecider);

describe('a secret (decider): set, update, delete; metadata only', () => {
  it('is created at version 1, then updated with the next version, by whoever set it', () => {
    secret
      .given([])
      .when(set())
      .then([created(1)]);
    secret
      .given([created(1)])
      .when(set('ada'))
      .then([{ type: 'secret.updated', data: metadata(2, 'ada') }]);
    secret
      .given([created(1), updated(2)])
      .when(set())
      .then([updated(3)]);
  });

  it('is deleted when it exists, and a delete of none is a 404 rule error', () => {
    secret
      .given([created(1)])
      .when(del())
      .then([deleted]);
    secret.given([]).when(del()).thenError('secret_not_found');
    secret
      .given([created(1), deleted])
      .when(del())
      .thenError('secret_not_found');
  });

  it('never reuses a version: set after delete creates it again with the next one', () => {
    secret
      .given([created(1), updated(2), deleted])
      .when(set())
      .then([created(3)]);
  });

  it('carries no value in any command or event', () => {
    const events = [
      secret.given([]).when(set()).decided,
      secret.given([created(1)]).when(del()).decided,
    ].flat();
    for (const event of events as SecretsEvent[]) expect(Object.keys(event.data)).not.toContain('value');
  });

  it('names its stream readably, and hashes names at the longest limits to fit a stream id', () => {
    expect(secretStreamId('acme', 'api', 'DATABASE_URL')).toBe('secret/acme/api/DATABASE_URL');
    const long = secretStreamId('o'.repeat(64), 'w'.repeat(64), `N${'A'.repeat(127)}`);
    expect(long).toMatch(/^secret\/[0-9a-f]{64}$/);
    expect(secretStreamId('o'.repeat(64), 'w'.repeat(64), `N${'B'.repeat(127)}`)).not.toBe(long);
  });
});
