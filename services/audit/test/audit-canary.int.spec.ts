import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '@palisade/observability';
import { AuthError } from '@palisade/auth';
import { privateClickHouse, TestClickHouse, uniqueId, waitFor } from '@palisade/testing';
import { sql } from 'kysely';
import type { AuditEdgeOverrides } from '../src';
import { AuditExportService } from '../src/export/audit-export.service';
import { AuditHarness, startAuditHarness } from './audit-harness';

const DDL = path.resolve(__dirname, '..', '..', '..', 'infra', 'clickhouse', 'audit_events.sql');

/**
 * Canary secrets planted across the running audit service (its signing key, its ClickHouse
 * password, a refresh token presented as a bearer token and a cookie, secrets in rejected
 * request bodies and query strings): none may reach the audit log, the ClickHouse export, an
 * NDJSON export, an HTTP response or any log line, at the most verbose log level.
 */
describe('canary secrets never reach the audit log, the exports or the logs', () => {
  const canary = (name: string) => `canary-${name}-${randomBytes(12).toString('hex')}`;
  const signingSeed = generateKeyPairSync('ed25519')
    .privateKey.export({ format: 'der', type: 'pkcs8' })
    .subarray(16)
    .toString('base64');
  const clickhousePassword = canary('clickhouse-password');
  const refreshToken = canary('refresh-token');
  const secretValue = canary('secret-value');
  const planted = [signingSeed, clickhousePassword, refreshToken, secretValue];
  const lines: string[] = [];
  const responses: string[] = [];
  let ch: TestClickHouse;
  let h: AuditHarness;
  const org = uniqueId('org');

  /** Stands in for identity and authorization: only the planted token reads, the organization's log. */
  const readers: AuditEdgeOverrides = {
    credentials: {
      async verify(token) {
        if (token !== refreshToken) throw new AuthError('token_missing', 'Sign in to read the audit log.');
        return {
          kind: 'api_token',
          tokenId: 'auditor',
          userId: 'auditor',
          orgId: org,
          scope: 'read',
          expiresAt: 4e9,
        };
      },
    },
    permissions: { check: () => ({ allowed: true, reason: 'role:owner' }) },
  };

  beforeAll(async () => {
    ch = await privateClickHouse([
      {
        name: 'palisade_exporter',
        password: clickhousePassword,
        role: 'insert',
        databases: ['palisade_audit'],
      },
    ]);
    for (const statement of fs
      .readFileSync(DDL, 'utf8')
      .replace(/^--.*$/gm, '')
      .split(';'))
      if (statement.trim()) await ch.query(statement);
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    h = await startAuditHarness(
      {
        LOG_LEVEL: 'trace',
        AUDIT_SIGNING_KEY: signingSeed,
        AUDIT_CLICKHOUSE_URL: ch.url,
        AUDIT_CLICKHOUSE_PASSWORD: clickhousePassword,
        AUDIT_EXPORT_FLUSH_MS: '50',
      },
      { edge: readers, logger: createLogger({ level: 'trace', destination }) },
    );
  }, 120_000);
  afterAll(async () => {
    await h?.stop();
    await ch?.destroy();
  });

  const call = async (pathAndQuery: string, init: RequestInit = {}) => {
    const response = await fetch(`${h.running.url}${pathAndQuery}`, init);
    const text = await response.text();
    responses.push(text);
    return { status: response.status, text };
  };

  it('plants the canaries while the system works, then finds none of them anywhere', async () => {
    await h.emitMany('identity', org, 30);
    // Credentials on requests, secrets in rejected bodies and queries.
    const auth = { authorization: `Bearer ${refreshToken}`, cookie: `palisade_refresh=${refreshToken}` };
    expect((await call('/v1/audit/events?limit=5', { headers: auth })).status).toBe(200);
    expect((await call(`/v1/audit/events?token=${secretValue}`, { headers: auth })).status).toBe(400);
    expect((await call(`/v1/audit/events?actor=${secretValue}&limit=abc`, { headers: auth })).status).toBe(
      400,
    );
    expect((await call(`/v1/audit/proofs/inclusion?sequence=${secretValue}`)).status).toBe(400);
    expect(
      (
        await call(`/v1/probes/identity`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...auth },
          body: JSON.stringify({ probeId: 'BAD ID', orgId: org, password: secretValue }),
        })
      ).status,
    ).toBe(400);
    expect(
      (await call('/v1/audit/events', { headers: { authorization: `Bearer ${secretValue}` } })).status,
    ).toBe(401);
    // Make the exporter fail (and log) once, with its password in play.
    const exporter = h.running.app.get(AuditExportService, { strict: false }).exporter!;
    await waitFor(async () => (await exporter.position()) >= 30, { description: 'exported' });
    await ch.stop();
    await h.emitMany('placement', org, 5);
    await waitFor(() => exporter.lastError !== undefined, { description: 'an export failure logged' });
    await ch.start();
    await waitFor(async () => (await exporter.position()) === (await h.count()), {
      description: 'export caught up',
      timeoutMs: 60_000,
    });
    await waitFor(() => h.settled(), { description: 'checkpointed' });
    const ndjson = await call('/v1/audit/export', { headers: auth });
    expect(ndjson.status).toBe(200);
    expect(ndjson.text.split('\n').length).toBeGreaterThan(30);

    const stores: Record<string, string> = {
      'audit log rows': (
        await sql<{ row: string }>`select audit_log::text as row from audit_log`.execute(h.db)
      ).rows
        .map((r) => r.row)
        .join('\n'),
      checkpoints: (
        await sql<{ row: string }>`select audit_checkpoints::text as row from audit_checkpoints`.execute(h.db)
      ).rows
        .map((r) => r.row)
        .join('\n'),
      'ClickHouse export': await ch.query('select * from palisade_audit.audit_events format TSV'),
      'NDJSON export and HTTP responses': responses.join('\n'),
      'log lines': lines.join('\n'),
    };
    // The places looked at are not empty (a test that finds nothing in nothing proves nothing).
    expect(stores['log lines']).toMatch(/ClickHouse export failed/);
    expect(stores['ClickHouse export']).toContain(org);
    expect(stores['audit log rows']).toContain(org);
    for (const [where, content] of Object.entries(stores))
      for (const secret of planted)
        expect({ where, leaked: content.includes(secret) }).toEqual({ where, leaked: false });
  }, 150_000);
});
