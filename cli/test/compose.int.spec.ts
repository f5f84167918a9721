import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensureDockerCompose } from '@palisade/testing';
import { targetNames } from '../src/targets';

const root = path.resolve(__dirname, '..', '..');
const composeFile = path.join(root, 'compose', 'docker-compose.yml');
const run = promisify(execFile);

interface Service {
  image: string;
  command?: string[];
  entrypoint?: string[];
  user?: string;
  read_only?: boolean;
  cap_drop?: string[];
  security_opt?: string[];
  restart?: string;
  environment?: Record<string, string | null>;
  networks?: Record<string, unknown>;
  ports?: { target: number; published: string; host_ip?: string }[];
  volumes?: { type: string; source: string; target: string; read_only?: boolean }[];
  healthcheck?: { test: string[]; disable?: boolean };
  depends_on?: Record<string, { condition: string }>;
}
interface Project {
  services: Record<string, Service>;
  networks: Record<string, { internal?: boolean }>;
}

/** Every variable example.env asks for, with a fresh random value. */
function environment(): Record<string, string> {
  const names = fs
    .readFileSync(path.join(root, 'compose', 'example.env'), 'utf8')
    .split('\n')
    .filter((line) => /^[A-Z_]+=/.test(line))
    .map((line) => line.split('=')[0]);
  return Object.fromEntries(
    names.map((n) => [
      n,
      n === 'PALISADE_OIDC_ISSUER' ? 'https://login.example.com/' : randomBytes(18).toString('base64url'),
    ]),
  );
}

describe('compose, as docker compose v5.6.0 reads it', () => {
  let compose: string;
  let project: Project;
  const env = environment();
  const config = (extra: Record<string, string | undefined>) => {
    const scrubbed = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !/PASSWORD|_KEY$|OIDC|PALISADE_/.test(k)),
    );
    return run(compose, ['-f', composeFile, 'config', '--format', 'json'], {
      env: { ...scrubbed, ...extra },
      maxBuffer: 16 * 1024 * 1024,
    });
  };

  beforeAll(async () => {
    compose = ensureDockerCompose();
    project = JSON.parse((await config(env)).stdout) as Project;
  }, 15 * 60_000);

  it('is valid with every variable of example.env, and names each one that is missing', async () => {
    expect(Object.keys(project.services).length).toBeGreaterThanOrEqual(14);
    for (const missing of ['AUDIT_SIGNING_KEY', 'AUDIT_CLICKHOUSE_PASSWORD', 'IDENTITY_DATABASE_PASSWORD']) {
      const failure = await config({ ...env, [missing]: undefined }).then(
        () => new Error('accepted'),
        (error: Error & { stderr?: string }) => error,
      );
      expect((failure as { stderr?: string }).stderr ?? failure.message).toContain(`set ${missing}`);
    }
  });

  it('runs every service hardened, with its own NATS user and Postgres login', () => {
    for (const name of targetNames()) {
      const service = project.services[name];
      const prefix = name.toUpperCase().replace(/-/g, '_');
      expect(service.command).toEqual(['serve', '--target', name]);
      expect(service.user).toBe('1001:1001');
      expect(service.read_only).toBe(true);
      expect(service.cap_drop).toEqual(['ALL']);
      expect(service.security_opt).toContain('no-new-privileges:true');
      expect(service.environment?.[`${prefix}_NATS_USER`]).toBe(name);
      expect(service.environment?.[`${prefix}_NATS_PASSWORD`]).toBe(env[`${prefix}_NATS_PASSWORD`]);
      expect(service.environment?.[`${prefix}_DATABASE_URL`]).toBe(
        `postgres://palisade_${name.replace(/-/g, '_')}:${env[`${prefix}_DATABASE_PASSWORD`]}@postgres:5432/palisade`,
      );
      expect(service.environment?.DATABASE_URL).toBeUndefined();
      expect(service.depends_on?.migrate).toEqual(
        expect.objectContaining({ condition: 'service_completed_successfully' }),
      );
      for (const port of service.ports ?? []) expect(port.host_ip).toBe('127.0.0.1');
    }
    // Only the migration step connects as the database owner.
    const owners = Object.entries(project.services).filter(([, s]) =>
      Object.values(s.environment ?? {}).some((v) => v?.startsWith('postgres://palisade:')),
    );
    expect(owners.map(([n]) => n)).toEqual(['migrate']);
  });

  it('lets only audit (and Grafana, read only) reach ClickHouse, on internal networks', () => {
    const clickhouseNetworks = Object.keys(project.services.clickhouse.networks ?? {});
    for (const network of clickhouseNetworks) expect(project.networks[network].internal).toBe(true);
    const reach = Object.entries(project.services)
      .filter(
        ([name, s]) =>
          name !== 'clickhouse' && Object.keys(s.networks ?? {}).some((n) => clickhouseNetworks.includes(n)),
      )
      .map(([name]) => name)
      .sort();
    expect(reach).toEqual(['audit', 'clickhouse-init', 'grafana']);
    for (const store of ['postgres', 'nats', 'clickhouse'])
      for (const network of Object.keys(project.services[store].networks ?? {}))
        if (network !== 'edge') expect(project.networks[network].internal).toBe(true);
    expect(project.services.clickhouse.ports ?? []).toEqual([]);
    expect(project.services.postgres.ports ?? []).toEqual([]);
  });

  it('exports audit to ClickHouse with the insert-only user and its signing key; the DDL runs first', () => {
    const audit = project.services.audit.environment!;
    expect(audit.AUDIT_SIGNING_KEY).toBe(env.AUDIT_SIGNING_KEY);
    expect(audit.AUDIT_CLICKHOUSE_URL).toBe('http://clickhouse:8123');
    expect(audit.AUDIT_CLICKHOUSE_PASSWORD).toBe(env.AUDIT_CLICKHOUSE_PASSWORD);
    const users = fs.readFileSync(path.join(root, 'infra', 'clickhouse', 'users.xml'), 'utf8');
    const exporter = new RegExp(
      `<${audit.AUDIT_CLICKHOUSE_USER}>([\\s\\S]*?)</${audit.AUDIT_CLICKHOUSE_USER}>`,
    ).exec(users)?.[1];
    expect(exporter).toContain('<password from_env="AUDIT_CLICKHOUSE_PASSWORD"/>');
    expect([...exporter!.matchAll(/<query>([^<]+)<\/query>/g)].map(([, q]) => q)).toEqual([
      `GRANT INSERT ON ${audit.AUDIT_CLICKHOUSE_DATABASE}.audit_events`,
    ]);
    expect(project.services.clickhouse.environment?.AUDIT_CLICKHOUSE_PASSWORD).toBe(
      env.AUDIT_CLICKHOUSE_PASSWORD,
    );
    expect(project.services.audit.depends_on?.['clickhouse-init']?.condition).toBe(
      'service_completed_successfully',
    );
    const init = project.services['clickhouse-init'];
    expect(init.entrypoint?.join(' ')).toContain('--queries-file /ddl/audit_events.sql');
    expect(init.volumes?.find((v) => v.target === '/ddl/audit_events.sql')?.source).toBe(
      path.join(root, 'infra', 'clickhouse', 'audit_events.sql'),
    );
  });

  it('gives every long-running container a healthcheck and publishes no NATS monitoring port', () => {
    for (const [name, service] of Object.entries(project.services)) {
      const oneShot = Object.values(project.services).some(
        (s) => s.depends_on?.[name]?.condition === 'service_completed_successfully',
      );
      if (oneShot) expect({ name, restart: service.restart }).toEqual({ name, restart: 'no' });
      else
        expect({
          name,
          disabled: service.healthcheck?.disable ?? false,
          test: service.healthcheck?.test?.[0],
        }).toEqual({
          name,
          disabled: false,
          test: expect.stringMatching(/^CMD(-SHELL)?$/),
        });
    }
    expect(project.services.nats.ports?.map((p) => p.target)).toEqual([4222]);
    expect(fs.readFileSync(path.join(root, 'compose', 'nats.conf'), 'utf8')).toMatch(
      /^http: 127\.0\.0\.1:8222$/m,
    );
  });

  it('provisions Grafana with both data sources and the dashboards folder, and mounts only files that exist', () => {
    const grafana = project.services.grafana;
    const targets = new Map((grafana.volumes ?? []).map((v) => [v.target, v.source]));
    expect(targets.get('/var/lib/grafana/dashboards')).toBe(
      path.join(root, 'infra', 'grafana', 'dashboards'),
    );
    expect(grafana.environment?.GRAFANA_CLICKHOUSE_PASSWORD).toBe(env.GRAFANA_CLICKHOUSE_PASSWORD);
    for (const service of Object.values(project.services))
      for (const volume of service.volumes ?? [])
        if (volume.type === 'bind')
          expect({ source: volume.source, exists: fs.existsSync(volume.source) }).toEqual({
            source: volume.source,
            exists: true,
          });
  });
});
