import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { serviceEnvPrefix } from '@palisade/config';
import {
  clientCertificateSubject,
  generateTlsCertificates,
  PostgresHandle,
  startEmbeddedPostgres,
  TlsCertificates,
} from '@palisade/embedded';
import { natsAuthorizationConfig, natsTlsConfig, servicePermissions } from '@palisade/messaging';
import { privateNats, waitFor } from '@palisade/testing';
import { connect } from 'nats';
import { Client } from 'pg';
import { RunningPalisade, serviceLogins, startPalisade } from '../src';
import { notesServices } from './notes.fixture';

/**
 * Traffic between services and their infrastructure, as in Kubernetes: NATS requires TLS and a
 * client certificate that names the service's user (verify_and_map), Postgres accepts TLS only
 * and services check its certificate and name (sslmode=verify-full).
 */
describe('encrypted traffic: NATS with mutual TLS, Postgres with verify-full', () => {
  const fixture = notesServices();
  const names = fixture.services.map((s) => s.context.context);
  let dir: string;
  let certs: TlsCertificates;
  let wrong: TlsCertificates;
  let nats: Awaited<ReturnType<typeof privateNats>>;
  let postgres: PostgresHandle;
  let adminUrl: string;
  let running: RunningPalisade;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-tls-'));
    fs.chmodSync(dir, 0o711); // Postgres runs as the unprivileged postgres user when we are root
    certs = generateTlsCertificates(path.join(dir, 'ca'), { clients: [...names, 'intruder'] });
    wrong = generateTlsCertificates(path.join(dir, 'other-ca'), { clients: names, caName: 'another-ca' });
    nats = await privateNats(
      natsTlsConfig({ ...certs.server, caFile: certs.caFile, mapUsersFromCertificates: true }) +
        natsAuthorizationConfig(
          fixture.services.map((s) => ({
            user: clientCertificateSubject(s.context.context),
            permissions: servicePermissions(s.context),
          })),
        ),
    );
    postgres = await startEmbeddedPostgres({
      dataDir: path.join(dir, 'pg', 'data'),
      password: randomBytes(18).toString('base64url'),
      tls: { ...certs.server, caFile: certs.caFile },
    });
    adminUrl = await postgres.createDatabase('tls');
    const env: Record<string, string> = {
      ...(await serviceLogins(adminUrl, 'tls').serviceEnv(fixture.services)),
      NATS_URL: `tls://127.0.0.1:${nats.port}`,
      NATS_TLS_CA_FILE: certs.caFile,
      HTTP_PORT: '0',
      LOG_LEVEL: 'silent',
    };
    for (const name of names) {
      env[`${serviceEnvPrefix(name)}_NATS_TLS_CERT_FILE`] = certs.clients[name].certFile;
      env[`${serviceEnvPrefix(name)}_NATS_TLS_KEY_FILE`] = certs.clients[name].keyFile;
    }
    running = await startPalisade({ services: fixture.services, env });
  });

  afterAll(async () => {
    await running?.stop();
    await postgres?.stop();
    await nats?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('services connect with their certificates and their own logins, over TLS both ways', async () => {
    expect(adminUrl).toContain('sslmode=verify-full');
    const response = await fetch(`${running.url}/v1/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ noteId: 'over-tls', text: 'hello' }),
    });
    expect(response.status).toBe(201);
    const admin = new Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      // Published over NATS by one service, consumed by the other, written to Postgres.
      await waitFor(
        async () =>
          (
            await admin.query(
              `select 1 from "${fixture.reader.schema}".seen_notes where note_id = 'over-tls'`,
            )
          ).rowCount === 1,
        { description: 'the note projected by the reader service' },
      );
      const { rows } = await admin.query<{ ssl: boolean; usename: string }>(
        `select s.ssl, a.usename from pg_stat_ssl s join pg_stat_activity a using (pid)
         where a.application_name like 'palisade-%' and a.datname = 'tls'`,
      );
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((r) => r.ssl)).toBe(true);
      expect(new Set(rows.map((r) => r.usename))).toEqual(
        new Set(fixture.services.map((s) => `tls_${s.context.schema}`)),
      );
    } finally {
      await admin.end();
    }
    const connections = (await (await fetch(`${nats.monitorUrl}/connz?auth=true`)).json()) as {
      connections: { name?: string; tls_version?: string; authorized_user?: string }[];
    };
    const services = connections.connections.filter((c) => c.name?.startsWith('palisade-'));
    expect(services.map((c) => c.authorized_user).sort()).toEqual(names.map(clientCertificateSubject).sort());
    expect(services.every((c) => c.tls_version?.startsWith('1.'))).toBe(true);
  });

  /** How a NATS connection attempt ends: 'connected', or the error it failed with. */
  async function natsAttempt(
    tls: { caFile: string; certFile?: string; keyFile?: string } | null,
  ): Promise<string> {
    try {
      const nc = await connect({ servers: `127.0.0.1:${nats.port}`, tls, timeout: 3_000, reconnect: false });
      await nc.close();
      return 'connected';
    } catch (error) {
      return String((error as Error).message ?? error);
    }
  }

  it('NATS refuses a plaintext client, a client without a certificate, one from another CA, and an unknown one', async () => {
    expect(await natsAttempt(null)).not.toBe('connected');
    expect(await natsAttempt({ caFile: certs.caFile })).not.toBe('connected');
    const [name] = names;
    expect(await natsAttempt({ caFile: certs.caFile, ...wrong.clients[name] })).not.toBe('connected');
    // A valid certificate whose subject is no service user: not authorized.
    expect(await natsAttempt({ caFile: certs.caFile, ...certs.clients.intruder })).toMatch(/authorization/i);
    // And the same name from the right CA connects (the refusals above are not an accident of setup).
    expect(await natsAttempt({ caFile: certs.caFile, ...certs.clients[name] })).toBe('connected');
  });

  /** How a Postgres connection attempt ends: 'connected', or its error. */
  async function postgresAttempt(query: string): Promise<string> {
    const url = `${adminUrl.split('?')[0]}?${query}`;
    const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
    try {
      await client.connect();
      await client.end();
      return 'connected';
    } catch (error) {
      return `${(error as { code?: string }).code ?? ''} ${(error as Error).message}`;
    }
  }

  it('Postgres refuses a plaintext client, and a client that trusts another CA refuses the server', async () => {
    expect(await postgresAttempt('sslmode=disable')).toMatch(/28000 .*no encryption/);
    expect(
      await postgresAttempt(`sslmode=verify-full&sslrootcert=${encodeURIComponent(wrong.caFile)}`),
    ).toMatch(/self[- ]signed certificate|unable to verify|unable to get local issuer/i);
    expect(await postgresAttempt(`sslmode=verify-full&sslrootcert=${encodeURIComponent(certs.caFile)}`)).toBe(
      'connected',
    );
  });
});
