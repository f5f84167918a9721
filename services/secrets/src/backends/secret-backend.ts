import type { AnyDatabase } from '@palisade/persistence';

/** Which secret a backend call is about. */
export interface SecretKey {
  orgId: string;
  workspaceId: string;
  name: string;
}

/**
 * Where a version's value lives in a backend, kept in the `secrets` table beside the metadata
 * (never in events): the local store's row version, or the SSM parameter and its version.
 */
export type SecretRef = LocalRef | SsmRef;
export type LocalRef = { backend: 'local'; version: number };
export type SsmRef = { backend: 'ssm'; parameter: string; version: number };

/** What a backend can say about a secret without reading its value. */
export interface BackendEntry {
  name: string;
  /** The backend's own version of the current value (SSM's parameter version, the local row version). */
  version: number;
}

/**
 * Why a backend call failed, as a stable code and a sentence that never holds a value:
 * `not_found` (no such value or version), `access_denied` (IAM or KMS said no), `throttled`
 * (still throttled after the SDK's retries), `unavailable` (anything else).
 */
export class SecretBackendError extends Error {
  constructor(
    readonly code: 'not_found' | 'access_denied' | 'throttled' | 'unavailable' | 'invalid_value',
    message: string,
  ) {
    super(message);
    this.name = 'SecretBackendError';
  }
}

/**
 * Where values are kept. Writes run inside the command's transaction (`trx`): the local store
 * writes its envelope there, so value and event commit together; SSM writes before the commit,
 * and a version whose event does not commit is never referenced.
 */
export interface SecretBackend {
  readonly kind: 'local' | 'ssm';
  /** Stores `value` as `version` of the secret; returns where it lives. */
  put(trx: AnyDatabase, key: SecretKey, version: number, value: string): Promise<SecretRef>;
  /** The values of these references, by secret name; all of them or a SecretBackendError. */
  getMany(
    db: AnyDatabase,
    orgId: string,
    workspaceId: string,
    refs: ReadonlyArray<{ name: string; ref: SecretRef }>,
  ): Promise<Map<string, string>>;
  /** Removes every version of the secret. Removing one that is already gone is not an error. */
  delete(trx: AnyDatabase, key: SecretKey): Promise<void>;
  /** Metadata of the workspace's values as the backend holds them (no value is read). */
  list(db: AnyDatabase, orgId: string, workspaceId: string): Promise<BackendEntry[]>;
}
