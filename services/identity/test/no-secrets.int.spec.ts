import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '@palisade/observability';
import { createDatabase } from '@palisade/persistence';
import { serviceLogins, startPalisade } from '@palisade/runtime';
import { testDatabase } from '@palisade/testing';
import { sql } from 'kysely';
import { identityService } from '../src';
import { client } from './identity.fixture';

/**
 * Canaries: every secret identity handles (the bootstrap password, a wrong password, access,
 * refresh and API tokens) is used, misused and refused at trace log level; none of them appears
 * in any log line, any event, or any error answer.
 */
describe('identity never writes a token, secret or password to logs, events or errors', () => {
  it('keeps every canary out of logs, events and error bodies', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const database = await testDatabase();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-canary-'));
    const bootstrapFile = path.join(dir, 'bootstrap.json');
    const running = await startPalisade({
      services: [identityService],
      env: {
        ...(await serviceLogins(database.url, database.name).serviceEnv([identityService])),
        NATS_URL: process.env.NATS_URL,
        HTTP_PORT: '0',
        IDENTITY_BOOTSTRAP_FILE: bootstrapFile,
        IDENTITY_KEY_ENCRYPTION_KEY_FILE: path.join(dir, 'identity-key-encryption.key'),
        IDENTITY_AUTH_RATE_LIMIT_PER_MINUTE: '1000',
      },
      logger: createLogger({ level: 'trace', destination }),
    });
    const db = createDatabase({ url: database.url, schema: 'identity' });
    const errorBodies: string[] = [];
    try {
      const api = client(running.url);
      const { username, password } = JSON.parse(fs.readFileSync(bootstrapFile, 'utf8')) as Record<
        string,
        string
      >;
      const wrongPassword = 'canary-wrong-password-7f3a9c1e';
      const refused = await api.post('/v1/auth/bootstrap/login', { username, password: wrongPassword });
      errorBodies.push(JSON.stringify(refused.body));
      const pair = (await api.post('/v1/auth/bootstrap/login', { username, password })).body as Record<
        string,
        string
      >;
      const next = (await api.post('/v1/auth/refresh', { refreshToken: pair.refreshToken })).body as Record<
        string,
        string
      >;
      // Reuse the spent refresh token: refused, family revoked.
      errorBodies.push(
        JSON.stringify((await api.post('/v1/auth/refresh', { refreshToken: pair.refreshToken })).body),
      );
      errorBodies.push(
        JSON.stringify((await api.post('/v1/auth/refresh', { refreshToken: `${pair.refreshToken}x` })).body),
      );
      const fresh = (await api.post('/v1/auth/bootstrap/login', { username, password })).body as Record<
        string,
        string
      >;
      const issued = (
        await api.post(
          '/v1/api-tokens',
          { name: 'canary', orgId: 'org-c', scope: 'read', expiresInDays: 1 },
          fresh.accessToken,
        )
      ).body as Record<string, string>;
      await api.get('/v1/auth/whoami', issued.token);
      await api.post(`/v1/api-tokens/${issued.id}/revoke`, undefined, fresh.accessToken);
      errorBodies.push(JSON.stringify((await api.get('/v1/auth/whoami', issued.token)).body));
      errorBodies.push(JSON.stringify((await api.get('/v1/auth/whoami', `${next.accessToken}x`)).body));
      await api.post('/v1/auth/logout', undefined, fresh.accessToken);

      const canaries = [
        password,
        wrongPassword,
        pair.accessToken,
        pair.refreshToken,
        next.accessToken,
        next.refreshToken,
        fresh.accessToken,
        fresh.refreshToken,
        issued.token,
      ];
      for (const canary of canaries) expect(canary).toEqual(expect.any(String));
      const events = JSON.stringify((await sql`select envelope from events`.execute(db)).rows);
      const tables = JSON.stringify([
        (await sql`select * from sessions`.execute(db)).rows,
        (await sql`select * from refresh_tokens`.execute(db)).rows,
        (await sql`select * from api_tokens`.execute(db)).rows,
      ]);
      expect(lines.length).toBeGreaterThan(10);
      const logs = lines.join('');
      for (const canary of canaries) {
        // Also their distinctive middles, in case something logs a substring.
        const middle = canary.slice(8, 40);
        for (const haystack of [logs, events, errorBodies.join('\n')]) {
          expect(haystack).not.toContain(canary);
          expect(haystack).not.toContain(middle);
        }
        expect(tables).not.toContain(middle);
      }
    } finally {
      await db.destroy();
      await running.stop();
      await database.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
