import { createHash } from 'node:crypto';
import type { SecretsEvent } from '@palisade/contracts';
import { RuleError } from '@palisade/domain';
import type { Decider } from '@palisade/domain';

type Backend = 'local' | 'ssm';

/** One secret's aggregate: whether it exists now and the last version it had. */
export interface SecretState {
  exists: boolean;
  /** The last version given out (kept across a delete: versions never repeat). */
  version: number;
}

/** Commands on one secret. `by` is the acting user. The value never travels in a command. */
export type SecretCommand =
  | { type: 'setSecret'; orgId: string; workspaceId: string; name: string; backend: Backend; by: string }
  | { type: 'deleteSecret'; orgId: string; workspaceId: string; name: string; by: string };

const MAX_STREAM_ID = 256;

/** The event stream of one secret (names at the longest limits are hashed to fit a stream id). */
export function secretStreamId(orgId: string, workspaceId: string, name: string): string {
  const readable = `secret/${orgId}/${workspaceId}/${name}`;
  if (readable.length <= MAX_STREAM_ID) return readable;
  return `secret/${createHash('sha256').update(`${orgId}\n${workspaceId}\n${name}`).digest('hex')}`;
}

function setSecret(
  state: SecretState,
  command: Extract<SecretCommand, { type: 'setSecret' }>,
): SecretsEvent[] {
  const data = {
    orgId: command.orgId,
    workspaceId: command.workspaceId,
    name: command.name,
    version: state.version + 1,
    backend: command.backend,
    changedBy: command.by,
  };
  return [state.exists ? { type: 'secret.updated', data } : { type: 'secret.created', data }];
}

function deleteSecret(
  state: SecretState,
  command: Extract<SecretCommand, { type: 'deleteSecret' }>,
): SecretsEvent[] {
  if (!state.exists)
    throw new RuleError(404, 'secret_not_found', `There is no secret ${command.name} in this workspace.`);
  return [
    {
      type: 'secret.deleted',
      data: {
        orgId: command.orgId,
        workspaceId: command.workspaceId,
        name: command.name,
        deletedBy: command.by,
      },
    },
  ];
}

function evolve(state: SecretState, event: SecretsEvent): SecretState {
  switch (event.type) {
    case 'secret.created':
    case 'secret.updated':
      return { exists: true, version: event.data.version };
    case 'secret.deleted':
      return { ...state, exists: false };
    case 'inputs.resolved':
    case 'inputs.refused':
    case 'secret_key.rotated':
      return state;
    default: {
      const never: never = event;
      return never;
    }
  }
}

/** One secret: set (created, then updated with the next version) and delete. */
export const secretDecider: Decider<SecretState, SecretCommand, SecretsEvent> = {
  initialState: { exists: false, version: 0 },
  decide(state, command) {
    switch (command.type) {
      case 'setSecret':
        return setSecret(state, command);
      case 'deleteSecret':
        return deleteSecret(state, command);
      default: {
        const never: never = command;
        return never;
      }
    }
  },
  evolve,
};
