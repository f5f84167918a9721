import { ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensureCommand } from '@palisade/config';
import { freePort, stopProcess } from '@palisade/embedded';
import { privateClickHouse, TestClickHouse, uniqueId, waitFor } from '@palisade/testing';

const root = path.resolve(__dirname, '..', '..');
const dashboards = path.join(root, 'infra', 'grafana', 'dashboards');
const DDL = path.join(root, 'infra', 'clickhouse', 'audit_events.sql');

/**
 * Metrics the dashboards show that no service exports yet: the runtime-scheduler will
 * (docs/operations.md, "Metrics"). Each must leave this list the day it exists; the test fails
 * while a listed metric is already exported, and this list must end empty.
 */
const PENDING_METRICS = ['palisade_runtime_state', 'palisade_runtime_wake_seconds'];

interface Dashboard {
  uid: string;
  panels: {
    type: string;
    title: string;
    datasource?: { type: string; uid: string };
    targets?: { expr?: string; rawSql?: string }[];
  }[];
}
const load = (file: string) => JSON.parse(fs.readFileSync(path.join(dashboards, file), 'utf8')) as Dashboard;
const all = () => fs.readdirSync(dashboards).filter((f) => f.endsWith('.json'));
/** Every query of every panel of every dashboard. */
const targets = () =>
  all().flatMap((file) =>
    load(file).panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel, target }))),
  );
/** Grafana's variables, as Grafana expands them for a 1 s scrape interval. */
const grafanaPromQL = (expr: string) =>
  expr.replace(/\$__rate_interval/g, '30s').replace(/\$__interval/g, '5s');
const grafanaSql = (sql: string) => sql.replace(/\$__timeFilter\((\w+)\)/g, '$1 >= now() - 86400');
const metricNames = (expr: string) =>
  [...new Set([...expr.matchAll(/\b((?:palisade|process|nodejs)_[a-z0-9_]+)/g)].map(([, m]) => m))].map((m) =>
    m.replace(/_(bucket|count|sum)$/, ''),
  );

function spawnLogged(command: string, args: string[], env: NodeJS.ProcessEnv, log: string): ChildProcess {
  const out = fs.openSync(log, 'a');
  const child = spawn(command, args, { env, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  return child;
}

describe('the Grafana dashboards, against palisade dev, Prometheus and ClickHouse', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-dashboards-'));
  // Postgres runs as the unprivileged postgres user when we are root: it must be able to enter.
  fs.chmodSync(work, 0o711);
  let clickhouse: TestClickHouse;
  let dev: ChildProcess;
  let prometheus: ChildProcess;
  let api: string;
  let prom: string;
  const exporter = { user: 'palisade_exporter', password: randomBytes(12).toString('hex') };
  const reader = { user: 'grafana', password: randomBytes(12).toString('hex') };
  const org = uniqueId('dash');

  const query = async (expr: string) => {
    const response = await fetch(`${prom}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await response.json()) as { status: string; error?: string; data: { result: unknown[] } };
    if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
    return body.data.result;
  };

  beforeAll(async () => {
    clickhouse = await privateClickHouse([
      { name: exporter.user, password: exporter.password, role: 'insert', databases: ['palisade_audit'] },
      { name: reader.user, password: reader.password, role: 'read', databases: ['palisade_audit'] },
    ]);
    for (const statement of fs
      .readFileSync(DDL, 'utf8')
      .replace(/^--.*$/gm, '')
      .split(';'))
      if (statement.trim()) await clickhouse.query(statement);

    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    dev = spawnLogged(
      process.execPath,
      [
        path.join(root, 'cli', 'bin', 'palisade.js'),
        'dev',
        '--port',
        String(port),
        '--data-dir',
        path.join(work, 'dev'),
      ],
      {
        ...process.env,
        LOG_LEVEL: 'warn',
        AUDIT_CLICKHOUSE_URL: clickhouse.url,
        AUDIT_CLICKHOUSE_USER: exporter.user,
        AUDIT_CLICKHOUSE_PASSWORD: exporter.password,
        AUDIT_EXPORT_FLUSH_MS: '100',
        AUDIT_CHECKPOINT_INTERVAL_MS: '500',
      },
      path.join(work, 'dev.log'),
    );
    await waitFor(async () => (await fetch(`${api}/readyz`).catch(() => undefined))?.ok === true, {
      description: 'palisade dev ready',
      timeoutMs: 90_000,
      intervalMs: 200,
    });

    const prometheusBinary = ensureCommand({
      command: 'prometheus',
      debianPackage: 'prometheus',
      purpose: 'the Prometheus server the dashboard test queries',
    });
    const promPort = await freePort();
    prom = `http://127.0.0.1:${promPort}`;
    const config = path.join(work, 'prometheus.yml');
    fs.writeFileSync(
      config,
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        'scrape_configs:',
        '  - job_name: palisade',
        `    static_configs: [{ targets: ['127.0.0.1:${port}'], labels: { target: all } }]`,
      ].join('\n'),
    );
    prometheus = spawnLogged(
      prometheusBinary,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${path.join(work, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      process.env,
      path.join(work, 'prometheus.log'),
    );

    // Traffic every panel has something to show for: sign-ins (one failing), an organization,
    // allowed and denied decisions over HTTP, a check over NATS (audit's read), a 404.
    const credential = JSON.parse(
      fs.readFileSync(path.join(work, 'dev', 'bootstrap-admin.json'), 'utf8'),
    ) as {
      username: string;
      password: string;
    };
    const post = (url: string, body: unknown, token?: string) =>
      fetch(`${api}${url}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      });
    const failed = await post('/v1/auth/bootstrap/login', {
      username: credential.username,
      password: 'wrong',
    });
    expect(failed.status).toBe(401);
    const login = await post('/v1/auth/bootstrap/login', {
      username: credential.username,
      password: credential.password,
    });
    expect(login.status).toBe(200);
    const { accessToken } = (await login.json()) as { accessToken: string };
    expect((await post('/v1/orgs', { orgId: org, name: 'Dashboards' }, accessToken)).status).toBe(201);
    const check = async (orgId: string) =>
      (await (
        await post('/v1/authz/check', { action: 'org.read', resource: { orgId } }, accessToken)
      ).json()) as {
        allowed: boolean;
      };
    await waitFor(async () => (await check(org)).allowed, {
      description: 'the new organization allows its owner',
    });
    expect((await check(uniqueId('other'))).allowed).toBe(false);
    await fetch(`${api}/v1/audit/events?org=${org}`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect((await fetch(`${api}/v1/no-such-route`)).status).toBe(404);

    await waitFor(async () => (await query('count_over_time(up{job="palisade"}[1m]) >= 5')).length === 1, {
      description: 'five scrapes of palisade dev',
      timeoutMs: 60_000,
      intervalMs: 250,
    });
    await waitFor(async () => (await query('palisade_audit_checkpoint_timestamp_seconds')).length === 1, {
      description: 'a signed checkpoint seen by Prometheus',
      timeoutMs: 30_000,
    });
  }, 240_000);

  afterAll(async () => {
    if (prometheus) await stopProcess(prometheus, 'SIGTERM', 10_000);
    if (dev) await stopProcess(dev, 'SIGTERM', 30_000);
    await clickhouse?.destroy();
    fs.rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it('ships alert rules that promtool accepts', async () => {
    const promtool = ensureCommand({
      command: 'promtool',
      debianPackage: 'prometheus',
      purpose: 'checks the alert rules',
    });
    const { stdout } = await promisify(execFile)(promtool, [
      'check',
      'rules',
      path.join(root, 'infra', 'prometheus', 'alerts.yml'),
    ]);
    expect(stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('binds every panel to a provisioned data source by uid', () => {
    const provisioned = fs.readFileSync(
      path.join(root, 'infra', 'grafana', 'provisioning', 'datasources', 'datasources.yaml'),
      'utf8',
    );
    for (const file of all())
      for (const panel of load(file).panels.filter((p) => p.type !== 'row')) {
        expect({ file, panel: panel.title, uid: panel.datasource?.uid }).toEqual({
          file,
          panel: panel.title,
          uid: expect.stringMatching(/^(prometheus|clickhouse)$/),
        });
        expect(provisioned).toContain(`uid: ${panel.datasource!.uid}`);
        expect(JSON.stringify(panel)).not.toContain('${DS_');
      }
  });

  it('every PromQL expression of every dashboard returns series from palisade dev', async () => {
    const exported = await (await fetch(`${api}/metrics`)).text();
    const problems: string[] = [];
    let evaluated = 0;
    for (const { panel, target } of targets()) {
      if (!target.expr) continue;
      evaluated++;
      const pending = metricNames(target.expr).filter((m) => PENDING_METRICS.includes(m));
      const series = await query(grafanaPromQL(target.expr));
      if (pending.length) {
        if (series.length)
          problems.push(`${panel.title}: ${pending.join(', ')} exists now; take it off PENDING_METRICS`);
      } else if (series.length === 0) problems.push(`${panel.title}: no series for ${target.expr}`);
    }
    expect(evaluated).toBeGreaterThanOrEqual(25);
    expect(problems).toEqual([]);
    for (const metric of PENDING_METRICS) expect(exported).not.toMatch(new RegExp(`^# TYPE ${metric} `, 'm'));
  });

  it('every ClickHouse query of every dashboard runs as the readonly user and sees what palisade dev exported', async () => {
    await waitFor(
      async () =>
        Number(
          (await clickhouse.query(`select count() from palisade_audit.audit_events where denied = 1`)).trim(),
        ) > 0,
      { description: 'the failed sign-in exported to ClickHouse', timeoutMs: 30_000 },
    );
    let ran = 0;
    for (const { panel, target } of targets()) {
      if (!target.rawSql) continue;
      ran++;
      const rows = (await clickhouse.query(`${grafanaSql(target.rawSql)} FORMAT JSONEachRow`, reader)).trim();
      expect({ panel: panel.title, rows: rows.split('\n').filter(Boolean).length > 0 }).toEqual({
        panel: panel.title,
        rows: true,
      });
    }
    expect(ran).toBeGreaterThanOrEqual(5);
  });
});
