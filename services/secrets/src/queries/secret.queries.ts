import { Inject, Injectable } from '@nestjs/common';
import type { SecretListItem } from '@palisade/contracts';
import { ServiceRuntime } from '@palisade/runtime';
import type { SecretBackend } from '../backends/secret-backend';
import { SECRET_BACKEND } from '../backends/secret-backend.token';
import { secretRows } from '../projections/secrets.repository';

/**
 * What `palisade secret list` shows: names, versions, who changed them and when, from the
 * service's own rows, and whether the backend still holds the recorded version (metadata only:
 * SSM's GetParametersByPath without decryption, the local store's row versions).
 */
@Injectable()
export class SecretQueries {
  constructor(
    private readonly runtime: ServiceRuntime,
    @Inject(SECRET_BACKEND) private readonly backend: SecretBackend,
  ) {}

  async list(orgId: string, workspaceId: string): Promise<SecretListItem[]> {
    const [rows, entries] = await Promise.all([
      secretRows(this.runtime.db, orgId, workspaceId),
      this.backend.list(this.runtime.db, orgId, workspaceId),
    ]);
    const held = new Map(entries.map((e) => [e.name, e.version]));
    return rows.map((row) => {
      const version = held.get(row.name);
      return {
        name: row.name,
        version: row.version,
        backend: row.backend,
        changedBy: row.changed_by,
        changedAt: row.changed_at.toISOString(),
        createdAt: row.created_at.toISOString(),
        backendState:
          row.backend !== this.backend.kind || version === undefined
            ? 'missing'
            : version === row.ref.version
              ? 'ok'
              : 'changed_outside',
      };
    });
  }
}
