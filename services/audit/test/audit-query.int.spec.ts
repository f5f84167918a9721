import { createPublicKey } from 'node:crypto';
import { AuthError } from '@palisade/auth';
import type { AuthzCheck, AuthzDecision } from '@palisade/contracts';
import type { Principal } from '@palisade/auth';
import { apiError } from '@palisade/runtime';
import { uniqueId } from '@palisade/testing';
import fc from 'fast-check';
import { keyRing, verifyExport } from '../src/domain';
import type { AuditEdgeOverrides } from '../src';
import { AuditHarness, startAuditHarness } from './audit-harness';

interface Reader {
  orgId: string;
  actor: string;
}

/**
 * Stands in for identity and the authorization service's audit.read check: bearer tokens mapped
 * to readers (API tokens of their organization), or to a caller without audit.read.
 */
class TokenReaders implements Required<AuditEdgeOverrides> {
  readonly tokens = new Map<string, Reader | 'no-permission'>();
  readonly credentials = {
    verify: async (token: string | undefined): Promise<Principal> => {
      const reader = token ? this.tokens.get(token) : undefined;
      if (!reader) throw new AuthError('token_missing', 'Sign in to read the audit log.');
      const orgId = reader === 'no-permission' ? 'no-permission' : reader.orgId;
      return { kind: 'api_token', tokenId: token!, userId: token!, orgId, scope: 'read', expiresAt: 4e9 };
    },
  };
  readonly permissions = {
    check: (check: AuthzCheck): AuthzDecision => {
      if (check.resource.orgId === 'no-permission') throw apiError(403, 'forbidden', 'You lack audit.read.');
      return { allowed: true, reason: 'role:owner' };
    },
  };
}

interface Page {
  items: {
    sequence: number;
    orgId: string;
    actor: string;
    type: string;
    subject: string;
    event: { id: string };
  }[];
  nextCursor: string | null;
}

describe('audit query API: filters, cursor pagination, organization scope, NDJSON export with proofs', () => {
  const readers = new TokenReaders();
  let h: AuditHarness;
  const orgA = uniqueId('orga');
  const orgB = uniqueId('orgb');
  let idsA: string[];
  let idsB: string[];

  beforeAll(async () => {
    readers.tokens.set('token-a', { orgId: orgA, actor: 'user:alice' });
    readers.tokens.set('token-b', { orgId: orgB, actor: 'user:bob' });
    readers.tokens.set('token-none', 'no-permission');
    h = await startAuditHarness({ AUDIT_CHECKPOINT_EVERY: '25' }, { edge: readers });
    // Each round checkpointed before the next: at least three checkpoints.
    idsA = [
      ...(await h.emitCheckpointed('identity', orgA, 30)),
      ...(await h.emitCheckpointed('placement', orgA, 17)),
    ];
    idsB = await h.emitCheckpointed('identity', orgB, 20, 'secret-looking note of org B');
  });
  afterAll(() => h?.stop());

  const get = async (path: string, token?: string) => {
    const response = await fetch(`${h.running.url}/v1/audit/${path}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    return { status: response.status, text: await response.text() };
  };
  const page = async (query: string, token = 'token-a') => {
    const { status, text } = await get(`events?${query}`, token);
    expect({ status, text: status === 200 ? '' : text }).toEqual({ status: 200, text: '' });
    return JSON.parse(text) as Page;
  };
  async function all(query: string, limit: number, token = 'token-a') {
    const items: Page['items'] = [];
    let cursor: string | null = null;
    do {
      const next: Page = await page(`${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, token);
      items.push(...next.items);
      cursor = next.nextCursor;
    } while (cursor);
    return items;
  }

  it('refuses readers without a token or without audit.read, and other organizations', async () => {
    expect((await get('events')).status).toBe(401);
    expect(JSON.parse((await get('events', 'token-none')).text).error.code).toBe('forbidden');
    const other = await get(`events?org=${orgB}`, 'token-a');
    expect(other.status).toBe(403);
    expect(JSON.parse(other.text).error.code).toBe('organization_forbidden');
  });

  it('pages through exactly the caller organization, in log order, each entry once (property over page sizes)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 60 }), async (limit) => {
        const items = await all('', limit);
        expect(items.map((i) => i.event.id)).toEqual(idsA);
        expect(items.every((i) => i.orgId === orgA)).toBe(true);
        const sequences = items.map((i) => i.sequence);
        expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
      }),
      { numRuns: 8 },
    );
    const b = await all('', 7, 'token-b');
    expect(b.map((i) => i.event.id)).toEqual(idsB);
  });

  it('filters by type, subject, actor and time range', async () => {
    const placement = await all('type=palisade.placement.probe.emitted.v1', 100);
    expect(placement).toHaveLength(17);
    const subject = placement[0].subject;
    expect(
      (await all(`subject=${encodeURIComponent(subject)}`, 100)).every((i) => i.subject === subject),
    ).toBe(true);
    expect(await all('actor=user:nobody', 100)).toEqual([]);
    expect(await all('actor=user:probe', 100)).toHaveLength(47);
    const first = (await page('limit=1')).items[0] as unknown as { time: string };
    expect(await all(`to=${encodeURIComponent(first.time)}`, 100)).toEqual([]);
    expect(await all(`from=${encodeURIComponent(first.time)}`, 100)).toHaveLength(47);
  });

  it('answers bad queries with a stable 400, never a 500', async () => {
    for (const query of [
      'limit=0',
      'limit=1001',
      'limit=x',
      'cursor=not-a-cursor',
      `cursor=${Buffer.from('v1.-1').toString('base64url')}`,
      'from=yesterday',
      'from=2026-11-25T06:00:00Z&to=2026-11-25T05:00:00Z',
      'org=a.b',
      'colour=red',
      'type=',
    ]) {
      const { status, text } = await get(`events?${query}`, 'token-a');
      expect({ query, status, code: JSON.parse(text).error.code }).toEqual({
        query,
        status: 400,
        code: query.startsWith('cursor') ? 'invalid_cursor' : 'invalid_query',
      });
    }
  });

  it('exports the organization as NDJSON whose every entry verifies with the public key alone', async () => {
    const { status, text } = await get('export', 'token-b');
    expect(status).toBe(200);
    const lines = text.trim().split('\n');
    expect(JSON.parse(lines[0])).toMatchObject({ kind: 'header', complete: false, filter: { orgId: orgB } });
    const publicKeys = keyRing([createPublicKey(await h.log!.signingKey())]);
    const result = await verifyExport(lines, { publicKeys });
    expect(result).toMatchObject({ ok: true, entriesVerified: 20 });
    expect(text).not.toContain(orgA);
    // A changed entry in the file fails its own proof.
    const tampered = lines.map((l, i) =>
      i === 5 ? l.replace(/"subject":"probe\//, '"subject":"prove/') : l,
    );
    expect((await verifyExport(tampered, { publicKeys })).ok).toBe(false);
  });
});
