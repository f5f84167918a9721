import type { SecretsEvent } from '@palisade/contracts';
import { fold } from '@palisade/persistence';
import { SecretCommand, secretDecider, secretStreamId } from '../src/domain/secret.decider';
import { SecretRuleError } from '../src/domain/secret-rule.error';

const key = { orgId: 'acme', workspaceId: 'api', name: 'DATABASE_URL' };
const set = (by = 'olga'): SecretCommand => ({ kind: 'setSecret', ...key, backend: 'local', by });
const del = (by = 'olga'): SecretCommand => ({ kind: 'deleteSecret', ...key, by });
const metadata = (version: number, changedBy = 'olga') => ({
  ...key,
  version,
  backend: 'local' as const,
  changedBy,
});
const created = (version: number): SecretsEvent => ({ type: 'secret.created', data: metadata(version) });
const updated = (version: number): SecretsEvent => ({ type: 'secret.updated', data: metadata(version) });
const deleted: SecretsEvent = { type: 'secret.deleted', data: { ...key, deletedBy: 'olga' } };

/** Given these events, when this command: the events it decides (or the rule error's code). */
function when(given: SecretsEvent[], command: SecretCommand): SecretsEvent[] | string {
  try {
    return secretDecider.decide(fold(secretDecider, given), command);
  } catch (error) {
    if (error instanceof SecretRuleError) return error.code;
    throw error;
  }
}

describe('a secret (decider): set, update, delete; metadata only', () => {
  it('is created at version 1, then updated with the next version, by whoever set it', () => {
    expect(when([], set())).toEqual([created(1)]);
    expect(when([created(1)], set('ada'))).toEqual([{ type: 'secret.updated', data: metadata(2, 'ada') }]);
    expect(when([created(1), updated(2)], set())).toEqual([updated(3)]);
  });

  it('is deleted when it exists, and a delete of none is a 404 rule error', () => {
    expect(when([created(1)], del())).toEqual([deleted]);
    expect(when([], del())).toBe('secret_not_found');
    expect(when([created(1), deleted], del())).toBe('secret_not_found');
  });

  it('never reuses a version: set after delete creates it again with the next one', () => {
    expect(when([created(1), updated(2), deleted], set())).toEqual([created(3)]);
  });

  it('carries no value in any command or event', () => {
    for (const event of [
      ...(when([], set()) as SecretsEvent[]),
      ...(when([created(1)], del()) as SecretsEvent[]),
    ])
      expect(Object.keys(event.data).sort()).not.toContain('value');
  });

  it('names its stream readably, and hashes names at the longest limits to fit a stream id', () => {
    expect(secretStreamId('acme', 'api', 'DATABASE_URL')).toBe('secret/acme/api/DATABASE_URL');
    const long = secretStreamId('o'.repeat(64), 'w'.repeat(64), `N${'A'.repeat(127)}`);
    expect(long).toMatch(/^secret\/[0-9a-f]{64}$/);
    expect(secretStreamId('o'.repeat(64), 'w'.repeat(64), `N${'B'.repeat(127)}`)).not.toBe(long);
  });
});
