import { Inject, Injectable } from '@nestjs/common';
import { RuleError } from '@palisade/domain';
import { executeCommand } from '@palisade/persistence';
import { ServiceRuntime } from '@palisade/runtime';
import type { SecretBackend, SecretKey } from '../backends/secret-backend';
import { SecretBackendError } from '../backends/secret-backend';
import { SECRET_BACKEND } from '../backends/secret-backend.token';
import { secretDecider, secretStreamId } from '../domain/secret.decider';
import { checkSecretValue } from '../domain/secret-value';
import { deleteSecretRow, saveSecretRow } from '../projections/secrets.repository';

/** A backend failure as the answer to a person: 503 with the backend's sentence (never a value). */
function backendRefused(error: unknown): unknown {
  if (!(error instanceof SecretBackendError)) return error;
  return new RuleError(error.code === 'invalid_value' ? 422 : 503, `backend_${error.code}`, error.message);
}

/**
 * Set and delete on the write path: load `secret/<org>/<workspace>/<NAME>`, decide, and in one
 * transaction append the event, store the value in the backend and update the `secrets` row. The
 * value goes to the backend only; events and rows hold its version. `now` is the command's time.
 */
@Injectable()
export class SecretCommands {
  constructor(
    private readonly runtime: ServiceRuntime,
    @Inject(SECRET_BACKEND) private readonly backend: SecretBackend,
  ) {}

  async set(
    key: SecretKey,
    value: string,
    by: string,
    actor: string,
    now: number,
  ): Promise<{ version: number; created: boolean }> {
    checkSecretValue(value);
    const { events } = await executeCommand(this.runtime.db, this.runtime.store, {
      streamId: secretStreamId(key.orgId, key.workspaceId, key.name),
      decider: secretDecider,
      command: { type: 'setSecret', ...key, backend: this.backend.kind, by },
      metadata: { orgId: key.orgId, actor },
      conflictRetries: 3,
      project: async (trx, [stored]) => {
        const { version } = stored.event.data as { version: number };
        const ref = await this.backend.put(trx, key, version, value);
        await saveSecretRow(trx, key, { version, ref, changedBy: by, at: new Date(now) });
      },
    }).catch((error: unknown) => Promise.reject(backendRefused(error)));
    const event = events[0].event;
    return { version: (event.data as { version: number }).version, created: event.type === 'secret.created' };
  }

  async delete(key: SecretKey, by: string, actor: string): Promise<void> {
    await executeCommand(this.runtime.db, this.runtime.store, {
      streamId: secretStreamId(key.orgId, key.workspaceId, key.name),
      decider: secretDecider,
      command: { type: 'deleteSecret', ...key, by },
      metadata: { orgId: key.orgId, actor },
      conflictRetries: 3,
      project: async (trx) => {
        await deleteSecretRow(trx, key);
        await this.backend.delete(trx, key);
      },
    }).catch((error: unknown) => Promise.reject(backendRefused(error)));
  }
}
