import { generateKeyPairSync, KeyObject } from 'node:crypto';
import type { EventEnvelope } from '@palisade/contracts';
import { v7 as uuidv7 } from 'uuid';
import {
  AuditEntry,
  chainEntries,
  GENESIS_HASH,
  MerkleFrontier,
  SignedCheckpoint,
  signCheckpoint,
} from '../src/domain';

/** A well-formed event envelope of some context, for building logs without a backbone. */
export function sampleEnvelope(n: number, overrides: Partial<EventEnvelope> = {}): EventEnvelope {
  return {
    specversion: '1.0',
    id: uuidv7(),
    source: '/palisade/identity',
    type: 'palisade.identity.session.started.v1',
    subject: `session/${n}`,
    time: new Date(Date.UTC(2026, 10, 25, 5, 0, 0, n % 1000)).toISOString(),
    datacontenttype: 'application/json',
    data: { n, user: `user-${n % 7}`, note: 'é€😀 "quoted" \n line' },
    orgid: `org-${n % 3}`,
    actor: `user:u${n % 5}`,
    correlationid: `c-${n}`,
    sequence: n,
    ...overrides,
  };
}

export function ed25519(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ed25519');
}

/** A log of `size` entries with a signed checkpoint at each of `checkpointSizes`. */
export function buildLog(
  size: number,
  checkpointSizes: readonly number[],
  privateKey: KeyObject,
): { entries: AuditEntry[]; checkpoints: SignedCheckpoint[] } {
  const envelopes = Array.from({ length: size }, (_, i) => sampleEnvelope(i + 1));
  const entries = chainEntries({ sequence: 0, hash: GENESIS_HASH }, envelopes);
  const frontier = new MerkleFrontier();
  const checkpoints: SignedCheckpoint[] = [];
  const wanted = new Set(checkpointSizes);
  entries.forEach((entry, i) => {
    frontier.append(Buffer.from(entry.hash, 'hex'));
    if (wanted.has(i + 1)) {
      checkpoints.push(
        signCheckpoint(privateKey, {
          treeSize: i + 1,
          rootHash: frontier.root(),
          lastEntryHash: Buffer.from(entry.hash, 'hex'),
          issuedAt: new Date(Date.UTC(2026, 10, 25, 6, 0, i + 1)),
        }),
      );
    }
  });
  return { entries, checkpoints };
}
