// `npm run bench:startup`: how fast one service (audit, the heaviest) becomes ready and how much
// memory it holds, run the way the image runs it (compiled JavaScript, production dependencies
// only, `node cli/src/main.js serve --target audit`), beside today's way from the sources
// (`cli/bin/palisade.js`, TypeScript compiled by swc as it loads). Goals: ready in < 1.5 s,
// < 150 MB resident. Start-up = spawn → GET /readyz answers 200; memory = VmRSS then.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, stopProcess } from '@palisade/embedded';
import { runBench } from '@palisade/testing';
import { Client } from 'pg';

const root = path.resolve(__dirname, '..', '..');
const RUNS = Number(process.env.STARTUP_RUNS ?? 5);
const TARGET = process.env.STARTUP_TARGET ?? 'audit';
const GOALS = { seconds: 1.5, megabytes: 150 };

interface Sample {
  seconds: number;
  /** CPU seconds (user + system) the process used until it was ready: steady on a busy machine. */
  cpu: number;
  megabytes: number;
}

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

function cpuSeconds(pid: number): number {
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

function rssMegabytes(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

async function startOnce(argv: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Sample> {
  const port = await freePort();
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, [...argv, 'serve', '--target', TARGET], {
    cwd,
    env: { ...env, HTTP_PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  try {
    for (;;) {
      if (child.exitCode !== null)
        throw new Error(`exited ${child.exitCode} before it was ready: ${stderr.slice(-800)}`);
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (performance.now() - started > 60_000)
        throw new Error(`not ready after 60 s: ${stderr.slice(-800)}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return {
      seconds: (performance.now() - started) / 1000,
      cpu: cpuSeconds(child.pid!),
      megabytes: rssMegabytes(child.pid!),
    };
  } finally {
    await stopProcess(child, 'SIGTERM', 10_000);
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const summary = (samples: Sample[]) => ({
  seconds: median(samples.map((s) => s.seconds)),
  cpu: median(samples.map((s) => s.cpu)),
  megabytes: median(samples.map((s) => s.megabytes)),
  range: `${Math.min(...samples.map((s) => s.seconds)).toFixed(2)}–${Math.max(...samples.map((s) => s.seconds)).toFixed(2)} s`,
});

/** The image's /app: the compiled tree and `npm ci --omit=dev` (as infra/docker/Dockerfile does). */
function productionTree(dir: string): string {
  const app = path.join(dir, 'app');
  fs.cpSync(path.join(root, 'dist'), app, {
    recursive: true,
    filter: (source) => !source.includes(`${path.sep}node_modules`),
  });
  execFileSync(
    'npm',
    ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'],
    {
      cwd: app,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  return app;
}

const du = (dir: string) => Number(execFileSync('du', ['-sm', dir], { encoding: 'utf8' }).split('\t')[0]);

runBench('startup', async ({ natsUrl, databaseUrl, dir }) => {
  const buildStarted = Date.now();
  if (process.env.STARTUP_SKIP_BUILD !== '1')
    execFileSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  const app = productionTree(dir);
  console.log(
    `built and installed in ${((Date.now() - buildStarted) / 1000).toFixed(0)} s; production node_modules ${du(path.join(app, 'node_modules'))} MB (the repository's: ${du(path.join(root, 'node_modules'))} MB)`,
  );
  // Production mode refuses weak passwords: a login of the bench's own with a strong one.
  const password = randomBytes(32).toString('hex');
  const admin = new Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`create role bench_${TARGET.replace(/-/g, '_')} login superuser password '${password}'`);
  await admin.end();
  const url = new URL(databaseUrl);
  url.username = `bench_${TARGET.replace(/-/g, '_')}`;
  url.password = password;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PALISADE_MODE: 'production',
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    HTTP_HOST: '127.0.0.1',
    NATS_URL: natsUrl,
    DATABASE_URL: url.toString(),
    // The bench's nats-server has no users: it accepts any.
    NATS_USER: 'bench',
    NATS_PASSWORD: randomBytes(32).toString('hex'),
    PALISADE_OIDC_ISSUER: 'https://login.example.com/',
    AUDIT_SIGNING_KEY: randomBytes(32).toString('base64'),
  };
  const modes: Record<string, { argv: string[]; cwd: string }> = {
    'compiled, production dependencies (the image)': { argv: ['cli/src/main.js'], cwd: app },
    'from the sources with swc (baseline)': {
      argv: [path.join(root, 'cli', 'bin', 'palisade.js')],
      cwd: root,
    },
  };
  // The first start migrates the schema; it is not counted.
  await startOnce(modes['compiled, production dependencies (the image)'].argv, app, env);
  const samples = new Map<string, Sample[]>(Object.keys(modes).map((m) => [m, []]));
  for (let i = 0; i < RUNS; i++)
    for (const [mode, { argv, cwd }] of Object.entries(modes))
      samples.get(mode)!.push(await startOnce(argv, cwd, env));

  const [compiled, baseline] = [...samples.values()].map(summary);
  console.log(`\n${TARGET}: spawn → /readyz 200, median of ${RUNS} starts each (Node ${process.version})\n`);
  console.log(
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on ${os.availableParallelism()} cores\n`,
  );
  console.log('| how it runs | start-up | range | CPU until ready | resident memory |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const [mode, s] of [...samples].map(([m, v]) => [m, summary(v)] as const))
    console.log(
      `| ${mode} | ${s.seconds.toFixed(2)} s | ${s.range} | ${s.cpu.toFixed(2)} s | ${s.megabytes.toFixed(0)} MB |`,
    );
  console.log(
    `\ncompiled / baseline: start-up ${(compiled.seconds / baseline.seconds).toFixed(2)}, CPU ${(compiled.cpu / baseline.cpu).toFixed(2)}, memory ${(compiled.megabytes / baseline.megabytes).toFixed(2)}`,
  );
  console.log(
    `goals: start-up < ${GOALS.seconds} s ${compiled.seconds < GOALS.seconds ? 'met' : 'MISSED'}, memory < ${GOALS.megabytes} MB ${compiled.megabytes < GOALS.megabytes ? 'met' : 'MISSED'}`,
  );
});
