import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { privateClickHouse, TestClickHouse, uniqueId, waitFor } from '@palisade/testing';
import { AuditExportService } from '../src/export/audit-export.service';
import { AuditHarness, startAuditHarness } from './audit-harness';

const DDL = path.resolve(__dirname, '..', '..', '..', 'infra', 'clickhouse', 'audit_events.sql');
const DASHBOARD = path.resolve(
  __dirname,
  '..',
  '..',
  '..',
  'infra',
  'grafana',
  'dashboards',
  'palisade-audit.json',
);

describe('ClickHouse export (Debian clickhouse-server 18.16, started for this test)', () => {
  let ch: TestClickHouse;
  let h: AuditHarness;
  const exporter = { user: 'palisade_exporter', password: randomBytes(12).toString('hex') };

  beforeAll(async () => {
    ch = await privateClickHouse([
      { name: exporter.user, password: exporter.password, role: 'insert', databases: ['palisade_audit'] },
    ]);
    const statements = fs
      .readFileSync(DDL, 'utf8')
      .replace(/^--.*$/gm, '')
      .split(';')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const statement of statements) await ch.query(statement);
    h = await startAuditHarness({
      AUDIT_CLICKHOUSE_URL: ch.url,
      AUDIT_CLICKHOUSE_USER: exporter.user,
      AUDIT_CLICKHOUSE_PASSWORD: exporter.password,
      AUDIT_EXPORT_BATCH_SIZE: '40',
      AUDIT_EXPORT_FLUSH_MS: '100',
    });
  }, 120_000);
  afterAll(async () => {
    await h?.stop();
    await ch?.destroy();
  });

  const exported = async (org: string) =>
    Number(
      (
        await ch.query(`select uniqExact(event_id) from palisade_audit.audit_events where org_id = '${org}'`)
      ).trim(),
    );

  it('exports every audited event in batches, with telemetry columns only', async () => {
    const org = uniqueId('org');
    await h.emitMany('identity', org, 100, 'a note that stays in Postgres');
    await waitFor(async () => (await exported(org)) === 100, {
      description: '100 events in ClickHouse',
      timeoutMs: 20_000,
    });
    const row = JSON.parse(
      (
        await ch.query(
          `select * from palisade_audit.audit_events where org_id = '${org}' limit 1 format JSONEachRow`,
        )
      ).trim(),
    ) as Record<string, unknown>;
    expect(Object.keys(row).sort()).toEqual(
      [
        'actor',
        'denied',
        'event_id',
        'event_time',
        'exported_at',
        'org_id',
        'producer',
        'recorded_at',
        'sequence',
        'subject',
        'type',
      ].sort(),
    );
    expect(JSON.stringify(row)).not.toContain('a note that stays in Postgres');
  });

  it('keeps auditing while ClickHouse is down and loses nothing when it returns', async () => {
    const org = uniqueId('org');
    await h.emitMany('identity', org, 60);
    await waitFor(async () => (await exported(org)) === 60, {
      description: 'first 60 exported',
      timeoutMs: 20_000,
    });
    const service = h.running.app.get(AuditExportService, { strict: false });
    await ch.stop();
    await h.emitMany('placement', org, 70);
    await h.emitMany('identity', org, 70);
    // Palisade keeps working: the audit log takes everything while the export waits.
    await waitFor(async () => (await h.count(`org_id = '${org}'`)) === 200, {
      description: 'all 200 audited',
    });
    await waitFor(() => service.exporter!.lastError !== undefined, {
      description: 'the exporter noticed the outage',
    });
    // The lag shows on /metrics while the dashboard's ClickHouse is down.
    const lag = async () =>
      Number(
        /^palisade_audit_export_lag_entries (\d+)$/m.exec(
          await (await fetch(`${h.running.url}/metrics`)).text(),
        )?.[1],
      );
    await waitFor(async () => (await lag()) >= 140, { description: 'export lag on /metrics' });
    await ch.start();
    await waitFor(async () => (await exported(org)) === 200, {
      description: 'all 200 exported after ClickHouse returned',
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    // At least once, collapsed by event id: after merging, each event is there once.
    await ch.query('optimize table palisade_audit.audit_events final');
    expect(
      Number(
        (await ch.query(`select count() from palisade_audit.audit_events where org_id = '${org}'`)).trim(),
      ),
    ).toBe(200);
    await waitFor(async () => (await service.exporter!.position()) === (await h.count()), {
      description: 'the export position at the head of the log',
    });
    await waitFor(async () => (await lag()) === 0, { description: 'no lag on /metrics' });
  }, 120_000);

  it('every query of the Grafana dashboard runs on this ClickHouse and sees the export', async () => {
    const org = uniqueId('org');
    await h.emitMany('placement', org, 5);
    await waitFor(async () => (await exported(org)) === 5, { description: '5 events exported' });
    const dashboard = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8')) as {
      panels: { title: string; targets: { rawSql: string }[] }[];
    };
    expect(dashboard.panels.map((p) => p.title)).toEqual(
      expect.arrayContaining(['Events by type', 'Events by organization', 'Denied actions', 'Export lag']),
    );
    for (const panel of dashboard.panels) {
      // Grafana's time macro, as the plugin expands it.
      const statement = panel.targets[0].rawSql.replace(/\$__timeFilter\((\w+)\)/g, '$1 >= now() - 86400');
      const result = await ch.query(`${statement} FORMAT JSONEachRow`);
      if (panel.title !== 'Denied actions' && !panel.title.startsWith('Denied'))
        expect(result.trim()).not.toBe('');
    }
  });

  it('the exporter user can insert into its database only, and run no DDL', async () => {
    await ch.query('create database if not exists other');
    await ch.query('create table if not exists other.secrets (a String) engine = Memory');
    await expect(ch.query('select * from other.secrets', exporter)).rejects.toThrow(
      /Access denied|not allowed/i,
    );
    await expect(ch.query('insert into other.secrets values (1)', exporter)).rejects.toThrow(
      /Access denied|not allowed/i,
    );
    await expect(ch.query('drop table palisade_audit.audit_events', exporter)).rejects.toThrow(
      /DDL queries are prohibited/,
    );
    await expect(
      ch.query('alter table palisade_audit.audit_events delete where 1', exporter),
    ).rejects.toThrow(/DDL queries are prohibited/);
    await expect(
      ch.query('create table palisade_audit.x (a UInt8) engine = Memory', exporter),
    ).rejects.toThrow(/DDL queries are prohibited/);
  });
});
