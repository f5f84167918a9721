import { generateKeyPairSync, KeyObject } from 'node:crypto';
import type { AnyDatabase } from '@palisade/persistence';
import { sql } from 'kysely';
import { keyIdOf, parsePrivateKey } from '../domain';

/**
 * The checkpoint signing key: AUDIT_SIGNING_KEY when set (production requires it); otherwise a
 * key generated on first start and kept in the audit schema (dev and demo only).
 */
export async function loadSigningKey(
  db: AnyDatabase,
  configured: string | undefined,
): Promise<{ key: KeyObject; generated: boolean }> {
  if (configured !== undefined) return { key: parsePrivateKey(configured), generated: false };
  const existing = await sql<{ private_key_pem: string }>`
    select private_key_pem from audit_generated_keys order by created_at, key_id limit 1`.execute(db);
  if (existing.rows[0]) return { key: parsePrivateKey(existing.rows[0].private_key_pem), generated: true };
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  // Two replicas starting at once: the first key stored wins, and both use it.
  await sql`insert into audit_generated_keys (key_id, private_key_pem) values (${keyIdOf(publicKey)}, ${pem})
            on conflict do nothing`.execute(db);
  return loadSigningKey(db, undefined);
}
